/// A failure of the cluster script while a test drove it.
public struct PGTestClusterError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "pg-test-cluster.sh: \(message)" }
}
