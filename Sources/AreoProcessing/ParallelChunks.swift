import AreoCompute
import Foundation

/// Whole-grid passes (tens of millions of pixels) split into contiguous chunks run on the
/// compute threads and the calling thread (``ComputeThreads``, never the cooperative pool's). Each chunk writes only its own range of the output, so no two threads share an element.
enum ParallelChunks {
    /// Below this many elements a pass runs on the calling thread.
    static let minimumChunk = 1 << 20

    /// Runs `body` over `0..<count` in chunks, in parallel; returns each chunk's result in order.
    static func map<Result>(_ count: Int, _ body: @Sendable (Range<Int>) -> Result) -> [Result] {
        let chunks = max(1, min(4 * (ComputeThreads.shared.threadCount + 1), count / minimumChunk))
        guard chunks > 1 else { return [body(0..<count)] }
        let results = [Result?](unsafeUninitializedCapacity: chunks) { buffer, initialized in
            for k in 0..<chunks { (buffer.baseAddress! + k).initialize(to: nil) }
            nonisolated(unsafe) let buffer = buffer
            ComputeThreads.shared.perform(iterations: chunks) { chunk in
                buffer[chunk] = body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
            initialized = chunks
        }
        return results.map { $0! }
    }

    /// Runs `body` over `0..<count` in chunks, in parallel.
    static func forEach(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        _ = map(count, body)
    }
}
