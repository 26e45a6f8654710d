import HTTPServer

/// One log line per request: method, path, status, duration and request id (never headers, so never tokens).
struct AccessLog: Middleware {
    let logger: Logger

    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        let started = ContinuousClock.now
        do {
            let response = try next(request)
            if let deferred = response.deferred {
                // Logged when the real answer arrives (a write's commit, a long poll's change).
                deferred.transform { [self] completed in
                    record(request, status: completed.status, started: started)
                    return completed
                }
            } else {
                record(request, status: response.status, started: started)
            }
            return response
        } catch let error as Problem {
            record(request, status: error.status, started: started)
            throw error
        } catch let error as HTTPFailure {
            record(request, status: error.status, started: started)
            throw error
        } catch {
            record(request, status: 500, started: started)
            throw error
        }
    }

    private func record(_ request: HTTPRequest, status: Int, started: ContinuousClock.Instant) {
        let micros = (ContinuousClock.now - started).nanoseconds / 1000
        logger.info("\(request.remoteAddress) \(request.method) \(request.path) \(status) \(micros)us request_id=\(request.requestID)")
    }
}
