import FuzzSupport
import HTTPServer

/// libFuzzer target for `RequestParser`: every input is fed whole, in pieces whose lengths derive from the input,
/// and one byte at a time; the three must give the same events, and those events must respect the limits.
@main
enum FuzzRequestParser {
    /// Small limits, so that random inputs reach every one of them.
    static let limits: ParserLimits = {
        var limits = ParserLimits()
        limits.maxRequestLineBytes = 256
        limits.maxHeaderBytes = 1024
        limits.maxHeaderCount = 20
        limits.maxBodyBytes = 4096
        return limits
    }()

    static func main() {
        FuzzDriver.run { data, count in
            FuzzRequestParser.check(FuzzDriver.bytes(data, count))
            return 0
        }
    }

    static func check(_ bytes: [UInt8]) {
        let feed = ConnectionFeed(limits: limits)
        let whole = feed.events(bytes, pieces: [])
        RequestInvariants(limits: limits).check(whole)
        for (name, pieces) in [("pieces", pieceLengths(for: bytes)), ("byte by byte", Array(repeating: 1, count: bytes.count))] {
            let other = feed.events(bytes, pieces: pieces)
            guard other != whole else { continue }
            let at = zip(whole, other).prefix { $0 == $1 }.count
            let w = at < whole.count ? whole[at].description : "(nothing)"
            let o = at < other.count ? other[at].description : "(nothing)"
            FuzzDriver.violated("""
                whole and \(name) differ at event \(at) (pieces \(pieces.prefix(16)))
                  whole: \(w)
                  \(name): \(o)
                """)
        }
    }

    /// Piece lengths from a hash of the input: deterministic for one input, different cuts for each input.
    static func pieceLengths(for bytes: [UInt8]) -> [Int] {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { state = (state ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var lengths: [Int] = []
        var covered = 0
        while covered < bytes.count {
            // SplitMix64: cheap and well spread.
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            // Mostly short reads, sometimes a long one, as a socket delivers them.
            let length = z % 8 == 0 ? Int((z >> 8) % 512) + 1 : Int((z >> 8) % 16) + 1
            lengths.append(length)
            covered += length
        }
        return lengths
    }
}
