import Dispatch
import Foundation

/// Whole-grid passes (tens of millions of pixels) split into contiguous chunks run on every
/// core. Each chunk writes only its own range of the output, so no two threads share an element.
enum ParallelChunks {
    /// Below this many elements a pass runs on the calling thread.
    static let minimumChunk = 1 << 20

    /// Runs `body` over `0..<count` in chunks, on all cores; returns each chunk's result in order.
    static func map<Result>(_ count: Int, _ body: @Sendable (Range<Int>) -> Result) -> [Result] {
        let chunks = max(1, min(4 * ProcessInfo.processInfo.activeProcessorCount, count / minimumChunk))
        guard chunks > 1 else { return [body(0..<count)] }
        let results = [Result?](unsafeUninitializedCapacity: chunks) { buffer, initialized in
            for k in 0..<chunks { (buffer.baseAddress! + k).initialize(to: nil) }
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                buffer[chunk] = body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
            initialized = chunks
        }
        return results.map { $0! }
    }

    /// Runs `body` over `0..<count` in chunks, on all cores.
    static func forEach(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        _ = map(count, body)
    }
}
