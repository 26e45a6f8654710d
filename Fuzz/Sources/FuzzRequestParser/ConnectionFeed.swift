import FuzzSupport
import HTTPServer

/// Feeds bytes to a parser the way a connection does: append what one read returned, then take events until the
/// parser asks for more; the first error ends the connection.
struct ConnectionFeed {
    let limits: ParserLimits

    /// The events `bytes` produce when they arrive in pieces of the given lengths (the last piece takes the rest).
    func events(_ bytes: [UInt8], pieces: [Int]) -> [ObservedEvent] {
        var parser = RequestParser(limits: limits)
        var events: [ObservedEvent] = []
        var offset = 0
        var pieceIndex = 0
        while offset < bytes.count {
            let length = pieceIndex < pieces.count ? max(1, pieces[pieceIndex]) : bytes.count - offset
            pieceIndex += 1
            let end = min(bytes.count, offset + length)
            parser.append(bytes[offset..<end])
            offset = end
            // A head needs at least 4 bytes (its CRLFCRLF) and yields two events, so more than this many events from
            // one read means the parser is going round in circles.
            let allowedEvents = parser.bufferedByteCount / 2 + 2
            var eventsThisRead = 0
            while true {
                let event = parser.next()
                guard let observed = ObservedEvent(event) else { break }
                events.append(observed)
                eventsThisRead += 1
                if eventsThisRead > allowedEvents {
                    FuzzDriver.violated("\(eventsThisRead) events from \(parser.bufferedByteCount) buffered bytes: the parser loops")
                }
                if case .error = observed {
                    // A failed parser stays failed: asking again gives the same answer, never a request.
                    guard let again = ObservedEvent(parser.next()), again == observed else {
                        FuzzDriver.violated("after \(observed) the parser answered differently")
                    }
                    return events
                }
            }
        }
        return events
    }
}
