import HTTPServer

/// One header or trailer field as the parser delivered it.
struct ObservedField: Equatable {
    var name: String
    var value: String
}

/// What a handler would see of a request's start line and header fields.
struct ObservedHead: Equatable {
    var method: String
    var target: String
    var version: String
    var headers: [ObservedField]

    init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders) {
        self.method = method
        self.target = target
        self.version = version.text
        self.headers = headers.map { ObservedField(name: $0.name, value: $0.value) }
    }
}

/// A parser event reduced to comparable values: two feeds of the same bytes must produce equal lists of these.
enum ObservedEvent: Equatable, CustomStringConvertible {
    case head(ObservedHead, framing: BodyFraming, expectsContinue: Bool)
    case request(ObservedHead, body: [UInt8], trailers: [ObservedField])
    /// The detail sentence is left out on purpose: it is prose, the status and reason are the contract.
    case error(status: Int, reason: String, closes: Bool)

    init?(_ event: ParseEvent) {
        switch event {
        case .needMore:
            return nil
        case .head(let head):
            self = .head(ObservedHead(method: head.method, target: head.target, version: head.version, headers: head.headers),
                         framing: head.framing, expectsContinue: head.expectsContinue)
        case .request(let request):
            self = .request(ObservedHead(method: request.method, target: request.target, version: request.version,
                                         headers: request.headers),
                            body: request.body,
                            trailers: request.trailers.map { ObservedField(name: $0.name, value: $0.value) })
        case .error(let failure):
            self = .error(status: failure.status, reason: failure.reason.rawValue, closes: failure.closesConnection)
        }
    }

    var description: String {
        func fields(_ list: [ObservedField]) -> String { list.map { "\($0.name): \($0.value)" }.joined(separator: " | ") }
        switch self {
        case let .head(head, framing, expectsContinue):
            return "head \(head.method) \(head.target.debugDescription) \(head.version) \(framing) continue=\(expectsContinue) [\(fields(head.headers))]"
        case let .request(head, body, trailers):
            return "request \(head.method) \(head.target.debugDescription) body=\(body.count) bytes trailers=[\(fields(trailers))]"
        case let .error(status, reason, closes):
            return "error \(status) \(reason) close=\(closes)"
        }
    }
}
