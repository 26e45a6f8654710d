import Foundation
import XCTest

/// Stops and starts the server of the cluster `scripts/pg-test-cluster.sh` made, for the
/// reconnect tests. Needs `TT_POSTGRES_CLUSTER` (printed by `start`) and checks that it is the
/// cluster `TT_POSTGRES_URL` points at, so a test never stops somebody else's server.
enum PGTestCluster {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/pg-test-cluster.sh").path

    /// The cluster directory, or an XCTSkip when the tests were not started by the script.
    static func directory(for url: String) throws -> String {
        guard let directory = ProcessInfo.processInfo.environment["TT_POSTGRES_CLUSTER"], !directory.isEmpty else {
            throw XCTSkip("TT_POSTGRES_CLUSTER is unset: the reconnect test stops and starts the cluster made by `eval \"$(scripts/pg-test-cluster.sh start)\"`")
        }
        let port = try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard url.contains("127.0.0.1:\(port)/") else {
            throw XCTSkip("TT_POSTGRES_CLUSTER (\(directory), port \(port)) is not the cluster TT_POSTGRES_URL points at")
        }
        return directory
    }

    static func stopServer(_ directory: String) throws { try run("stop-server", directory) }

    static func startServer(_ directory: String) throws { try run("start-server", directory) }

    /// Runs the script, bounded: pg_ctl itself gives up after 30 s.
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`: here its termination
    /// handler sometimes never ran for the script that starts the server (whose daemon
    /// outlives it), leaving the bash a zombie and the test waiting.
    private static func run(_ command: String, _ directory: String) throws {
        let arguments = ["/bin/bash", script, command, directory]
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, argv, envp)
        guard spawned == 0 else { throw PGTestClusterError(message: "cannot run \(command): error \(spawned)") }
        let deadline = Date().addingTimeInterval(60)
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                // WIFEXITED / WEXITSTATUS are macros Swift cannot see.
                guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
                    throw PGTestClusterError(message: "\(command) failed (wait status \(status))")
                }
                return
            }
            if reaped < 0, errno != EINTR { throw PGTestClusterError(message: "waitpid failed: errno \(errno)") }
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw PGTestClusterError(message: "\(command) did not finish within 60 s")
            }
            usleep(20_000)
        }
    }
}
