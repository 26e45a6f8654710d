import Foundation

/// Where an import line came from — its file (an import of an export folder reads several) and its number, from 1,
/// counting blank lines as an editor does — and where the record sits inside the line: under `/record` in a
/// `{"resource", "record"}` line, at the top for a plain one.
struct ImportPlace: Sendable, Equatable {
    var file: String?
    var line: Int
    var pointerPrefix: String

    /// `tariff-measures.ndjson line 12`, or `line 12` for a single input.
    var description: String { (file.map { "\($0) " } ?? "") + "line \(line)" }
}

/// The lines of NDJSON input, a block at a time, from a file descriptor (a file or standard input) or from bytes in
/// memory (a request body): memory stays flat however long the input. Blank lines are skipped; a CR before the LF
/// and a UTF-8 byte-order mark at the very start are dropped (spreadsheet tools write both).
final class NDJSONLines {
    enum Failure: Error {
        /// The line is longer than `maxLineBytes`.
        case tooLong(line: Int, limit: Int)
        /// The input could not be read (errno's text).
        case unreadable(String)
    }

    private let descriptor: Int32?
    private var buffer: [UInt8]
    private var start = 0
    private var ended: Bool
    private(set) var lineNumber = 0
    /// Bytes taken from the input so far, for progress.
    private(set) var consumed = 0
    let maxLineBytes: Int
    static let blockSize = 256 * 1024

    /// Reads `descriptor` (not closed here) until its end.
    init(descriptor: Int32, maxLineBytes: Int) {
        self.descriptor = descriptor
        self.maxLineBytes = maxLineBytes
        buffer = []
        ended = false
    }

    init(bytes: [UInt8], maxLineBytes: Int) {
        descriptor = nil
        self.maxLineBytes = maxLineBytes
        buffer = bytes
        ended = true
    }

    /// The next line that is not blank, with its number; nil at the end of the input.
    func next() throws(Failure) -> (number: Int, bytes: [UInt8])? {
        while true {
            guard let (line, length) = try nextLine() else { return nil }
            lineNumber += 1
            var bytes = line
            if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
            if bytes.last == 13 { bytes.removeLast() }
            consumed += length
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            return (lineNumber, bytes)
        }
    }

    /// The bytes up to the next LF (without it) and how many input bytes that took, reading more as needed.
    private func nextLine() throws(Failure) -> ([UInt8], Int)? {
        while true {
            if let lf = newline() {
                let line = Array(buffer[start..<lf])
                start = lf + 1
                guard line.count <= maxLineBytes + 1 else { throw .tooLong(line: lineNumber + 1, limit: maxLineBytes) }
                return (line, line.count + 1)
            }
            if buffer.count - start > maxLineBytes + 1 { throw .tooLong(line: lineNumber + 1, limit: maxLineBytes) }
            if ended {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return (line, line.count)
            }
            try fill()
        }
    }

    private func newline() -> Int? {
        guard start < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { all in
            guard let found = memchr(all.baseAddress! + start, 10, all.count - start) else { return nil }
            return all.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Drops what was read and appends the next block (or notes the end).
    private func fill() throws(Failure) {
        guard let descriptor else { ended = true; return }
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.blockSize))
        var got: Int
        repeat {
            got = buffer.withUnsafeMutableBufferPointer { read(descriptor, $0.baseAddress! + old, Self.blockSize) }
        } while got < 0 && errno == EINTR
        guard got >= 0 else {
            buffer.removeLast(Self.blockSize)
            throw .unreadable(String(cString: strerror(errno)))
        }
        buffer.removeLast(Self.blockSize - got)
        if got == 0 { ended = true }
    }
}
