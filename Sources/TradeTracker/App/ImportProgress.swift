import Foundation

/// The progress line of `trade-tracker import` on stderr: rows so far, rows/s and, when the input's size is known,
/// how far it is and an estimate of the time left. Nothing for an import done within a second; after that at
/// most once a second on a terminal (one line rewritten in place), every ten seconds otherwise (one line each, for
/// logs). Called on the writer thread while a job runs and on the main thread between jobs, never at once: the main
/// thread waits for each job.
final class ImportProgress: @unchecked Sendable {
    private let started = ContinuousClock.now
    private let totalBytes: Int?
    private let isTerminal: Bool
    private let output: FileHandle
    private var lastShown: ContinuousClock.Instant?
    private var inPlace = false

    init(totalBytes: Int?, output: FileHandle = .standardError, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.totalBytes = totalBytes
        self.output = output
        self.isTerminal = isTerminal
    }

    var elapsed: Double { MetricsRecorder.seconds(since: started) }

    func update(rows: Int, bytes: Int) {
        let now = ContinuousClock.now
        guard now - started >= .seconds(1) else { return }
        if let lastShown, now - lastShown < (isTerminal ? .seconds(1) : .seconds(10)) { return }
        lastShown = now
        let line = Self.line(rows: rows, bytes: bytes, totalBytes: totalBytes, seconds: elapsed)
        if isTerminal {
            output.write(Data(("\r\u{1B}[K" + line).utf8))
            inPlace = true
        } else {
            output.write(Data((line + "\n").utf8))
        }
    }

    /// Clears the line rewritten in place, before the summary or an error is printed.
    func finish() {
        if inPlace { output.write(Data("\r\u{1B}[K".utf8)) }
        inPlace = false
    }

    /// `import: 45000 rows, 21300 rows/s, 48%, about 3 s left`.
    static func line(rows: Int, bytes: Int, totalBytes: Int?, seconds: Double) -> String {
        var text = "import: \(rows) rows, \(rate(rows, seconds)) rows/s"
        if let totalBytes, totalBytes > 0, bytes > 0 {
            let fraction = min(1, Double(bytes) / Double(totalBytes))
            let left = seconds * (1 - fraction) / fraction
            text += ", \(Int(fraction * 100))%, about \(Int(left.rounded(.up))) s left"
        }
        return text
    }

    static func rate(_ rows: Int, _ seconds: Double) -> Int {
        seconds > 0 ? Int(Double(rows) / seconds) : rows
    }
}
