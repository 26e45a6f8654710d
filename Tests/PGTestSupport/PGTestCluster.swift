import Foundation
import XCTest

/// Drives `scripts/pg-test-cluster.sh` for the tests that stop and start a server under live connections: the
/// shared cluster `start` made (`PGReconnectTests`) or a private one (`PGPrivateCluster`).
public enum PGTestCluster {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/pg-test-cluster.sh").path

    /// The shared cluster's directory, or an XCTSkip when the tests were not started by the script. Needs
    /// `TT_POSTGRES_CLUSTER` (printed by `start`) and checks that it is the cluster `TT_POSTGRES_URL` points at, so a
    /// test never stops somebody else's server.
    public static func directory(for url: String) throws -> String {
        guard let directory = ProcessInfo.processInfo.environment["TT_POSTGRES_CLUSTER"], !directory.isEmpty else {
            throw XCTSkip("TT_POSTGRES_CLUSTER is unset: the reconnect test stops and starts the cluster made by `eval \"$(scripts/pg-test-cluster.sh start)\"`")
        }
        let port = try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard url.contains("127.0.0.1:\(port)/") else {
            throw XCTSkip("TT_POSTGRES_CLUSTER (\(directory), port \(port)) is not the cluster TT_POSTGRES_URL points at")
        }
        return directory
    }

    /// Fast shutdown: clients are disconnected (57P01) at once; the data directory and port stay.
    public static func stopServer(_ directory: String) throws { try run(["stop-server", directory]) }

    /// Starts the server again on the same port and data directory, and waits until it accepts connections.
    public static func startServer(_ directory: String) throws { try run(["start-server", directory]) }

    /// Whether `initdb` and `pg_ctl` are installed where the script looks for them.
    public static var binariesInstalled: Bool {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        if versions.contains(where: { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/pg_ctl") }) { return true }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    /// Runs the script with `arguments`, its output discarded, bounded: pg_ctl itself gives up after 30 s.
    /// `environment` overrides entries of the test's own.
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`: here its termination
    /// handler sometimes never ran for the script that starts the server (whose daemon
    /// outlives it), leaving the bash a zombie and the test waiting.
    static func run(_ arguments: [String], environment overrides: [String: String] = [:]) throws {
        let command = arguments.first ?? ""
        let argv = (["/bin/bash", script] + arguments).map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.merging(overrides) { $1 }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        // `start` prints export lines for a shell; a failure's reasons go to stderr and stay visible.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp)
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

/// A cluster of the test's own (`scripts/pg-test-cluster.sh start` in a private temporary directory: its own data
/// directory and free port), so a test can stop and start its server without disturbing the shared one or the tests
/// running beside it. `remove()` stops it and deletes everything.
public final class PGPrivateCluster: Sendable {
    /// The directory `start` made: `data`, `port`, `server.log`.
    public let directory: String
    public let port: Int
    /// The owner of the test database, over TCP on 127.0.0.1 (trust authentication).
    public let url: String
    /// Where `start` records its cluster instead of the shared record, so `stop` without a directory still finds
    /// the shared cluster.
    private let parent: String

    /// Skips (XCTSkip) when `TT_POSTGRES_URL` is unset, like every PostgreSQL test, or PostgreSQL is not installed.
    public init() throws {
        _ = try PGTestDatabase.url()
        guard PGTestCluster.binariesInstalled else { throw XCTSkip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install -y postgresql)") }
        parent = FileManager.default.temporaryDirectory.appendingPathComponent("tt-pg-private-\(UUID().uuidString)").path
        // 0755: as root the server runs as `postgres`, which must reach the cluster inside.
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        do {
            try PGTestCluster.run(["start"], environment: ["TMPDIR": parent])
            directory = try String(contentsOfFile: parent + "/trade-tracker-pg-test.current", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let portText = try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let port = Int(portText) else { throw PGTestClusterError(message: "no port in \(directory)/port") }
            self.port = port
        } catch {
            try? FileManager.default.removeItem(atPath: parent)
            throw error
        }
        url = "postgres://trade_tracker@127.0.0.1:\(port)/trade_tracker_test"
    }

    public func stopServer() throws { try PGTestCluster.stopServer(directory) }

    public func startServer() throws { try PGTestCluster.startServer(directory) }

    /// Stops the server and deletes the cluster. Idempotent.
    public func remove() {
        try? PGTestCluster.run(["stop", directory], environment: ["TMPDIR": parent])
        try? FileManager.default.removeItem(atPath: parent)
    }
}
