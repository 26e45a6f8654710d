#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's entry for programs that keep their own `main`, as every SwiftPM executable does
// (declared in compiler-rt's FuzzerInterface.h; the linker takes it from libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// Runs libFuzzer from a target's `@main`.
public enum FuzzDriver {
    /// Hands the command line to libFuzzer, which calls `property` with every input, and exits with its status.
    public static func run(_ property: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv, property)
        exit(status)
    }

    /// The input libFuzzer passed, copied into an array.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
        guard let data, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: count))
    }

    /// Stops the process so that libFuzzer records the input as a crash; `fatalError` prints the message in
    /// release builds too, where `precondition` would not.
    public static func violated(_ invariant: String) -> Never {
        fatalError("invariant violated: \(invariant)")
    }
}
