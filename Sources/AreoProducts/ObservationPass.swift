import Logging

/// A background pass over observations: their ids fetched a page at a time (ids after the last
/// one seen), each worked on in turn; a failure is logged and skipped, cancellation ends the pass.
enum ObservationPass {
    /// Returns how many observations `work` did something for (it returns true then).
    static func run(
        page: Int, logger: Logger, failure: String,
        fetch: (_ after: Int, _ limit: Int) async throws -> [Int], work: (Int) async throws -> Bool
    ) async throws -> Int {
        var after = 0, done = 0
        while true {
            let ids = try await fetch(after, page)
            for id in ids {
                try Task.checkCancellation()
                after = id
                do {
                    if try await work(id) { done += 1 }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.warning("\(failure)", metadata: ["observation": "\(id)", "error": "\(error)"])
                }
            }
            if ids.count < page { return done }
        }
    }
}
