/// A failure of the cluster script while a test drove it.
struct PGTestClusterError: Error, CustomStringConvertible {
    let message: String
    var description: String { "pg-test-cluster.sh: \(message)" }
}
