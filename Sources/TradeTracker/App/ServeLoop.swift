import Foundation
import HTTPServer
import SQLite

/// Blocks the main thread until SIGTERM or SIGINT, then shuts the app down gracefully and exits 0.
public enum ServeLoop {
    public static func runUntilSignalled(_ app: TradeTrackerApp) -> Never {
        let queue = DispatchQueue(label: "signals")
        let done = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        done.wait()
        app.shutdown()
        withExtendedLifetime(sources) {}
        exit(0)
    }
}
