import Foundation
import XCTest

/// Runs the trade-tracker binary as a child process, for the command-line tests.
enum ChildProcess {
    /// Runs `arguments` to completion (with `input` on its standard input, if given; else none); its exit status and
    /// everything it wrote.
    static func run(_ arguments: [String], cwd: URL? = nil, input: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = TestApp.executable
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        // Small inputs only: the whole of it fits the pipe before the child reads.
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// What a starting server wrote to `stderr` up to its "listening on" line (at most 15 s).
    static func readUntilListening(_ stderr: Pipe) -> String {
        var output = ""
        let deadline = Date().addingTimeInterval(15)
        while !output.contains("listening on") && Date() < deadline {
            let chunk = stderr.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output += String(decoding: chunk, as: UTF8.self)
        }
        return output
    }
}
