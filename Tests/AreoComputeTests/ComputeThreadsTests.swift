import AreoCompute
import Foundation
import Synchronization
import Testing

/// The dedicated threads renders run on: work preferring them runs there (never on the
/// cooperative pool), parallel loops finish every iteration whatever the pool's size, and a
/// loop started from a pool thread cannot deadlock.
@Suite struct ComputeThreadsTests {
    @Test func aTaskPreferringThePoolRunsOnItsThreadsAndSoDoItsChildren() async throws {
        let pool = ComputeThreads(threads: 1, name: "test-compute")
        #expect(!ComputeThreads.isOnPoolThread)
        let (parent, children) = await withTaskExecutorPreference(pool) { () async -> (Bool, [Bool]) in
            let parent = ComputeThreads.isOnPoolThread
            let children = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { ComputeThreads.isOnPoolThread } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            return (parent, children)
        }
        #expect(parent)
        #expect(children == [true, true, true, true])
        #expect(try await pool.run { ComputeThreads.isOnPoolThread })
        #if os(Linux)
        let nice = try await pool.run { ComputeThreads.currentNiceness() }
        #expect(nice == ComputeThreads.niceness, "pool threads yield to request threads")
        #expect(ComputeThreads.currentNiceness() == 0 || ComputeThreads.currentNiceness() < nice)
        #endif
    }

    @Test(arguments: [1, 3])
    func everyIterationRunsOnceEvenFromAPoolThread(threads: Int) async throws {
        let pool = ComputeThreads(threads: threads, name: "test-loop")
        for iterations in [0, 1, 2, 7, 1000] {
            let counts = Mutex([Int](repeating: 0, count: iterations))
            pool.perform(iterations: iterations) { i in counts.withLock { $0[i] += 1 } }
            #expect(counts.withLock { $0 } == [Int](repeating: 1, count: iterations))
            // From inside the pool (a render's loop): the caller works too, so one thread suffices.
            let inside = try await pool.run {
                let again = Mutex(0)
                pool.perform(iterations: iterations) { _ in again.withLock { $0 += 1 } }
                return again.withLock { $0 }
            }
            #expect(inside == iterations)
        }
    }

    @Test func aFailureReachesTheCaller() async {
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await ComputeThreads.shared.run { throw Boom() } }
        #expect(ComputeThreads.defaultThreadCount(environment: ["AREO_COMPUTE_THREADS": "3"]) == 3)
        #expect(ComputeThreads.defaultThreadCount(environment: ["AREO_COMPUTE_THREADS": "-1"]) >= 1)
    }
}
