import AreoDelivery
import AreoTestSupport
import Foundation
import ServiceLifecycle
import Synchronization
import Testing

/// The worker pool: coalescing, priorities, cancellation.
@Suite struct RenderSchedulerTests {
    final class Counter: Sendable {
        let value = Mutex(0)
        func increment() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    /// Runs `body` with the scheduler's workers running.
    static func withScheduler(workers: Int, _ body: @Sendable (RenderScheduler) async throws -> Void) async throws {
        let scheduler = RenderScheduler(workers: workers, logger: TestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run() }
            defer { group.cancelAll() }
            try await body(scheduler)
        }
    }

    static func result(_ name: String) -> RenderResult {
        RenderResult(products: [name: .init(entry: .init(key: name, mediaType: "text/plain", size: 0, sha256: "", observationID: nil, attributes: [:]), path: nil, bytes: [])], rendered: true)
    }

    @Test func identicalConcurrentRequestsShareOneRender() async throws {
        try await Self.withScheduler(workers: 2) { scheduler in
            let renders = Counter()
            try await withThrowingTaskGroup(of: RenderResult.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await scheduler.render(key: "k", product: "p") { _ in
                            renders.increment()
                            try await Task.sleep(for: .milliseconds(200))
                            return Self.result("k")
                        }
                    }
                }
                var results = 0
                for try await result in group where result.products["k"] != nil { results += 1 }
                #expect(results == 50)
            }
            #expect(renders.count == 1)
            #expect(scheduler.statistics().coalesced == 49)
        }
    }

    @Test func aRenderNobodyWaitsForIsCancelled() async throws {
        try await Self.withScheduler(workers: 1) { scheduler in
            let started = CancellationSignal(), stopped = Counter()
            let waiter = Task {
                try await scheduler.render(key: "slow", product: "slow") { _ in
                    started.fire()
                    do { try await Task.sleep(for: .seconds(30)) } catch { stopped.increment(); throw error }
                    return Self.result("slow")
                }
            }
            await started.wait()
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            for _ in 0..<100 where scheduler.statistics().cancelled == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(scheduler.statistics().cancelled == 1)
            #expect(stopped.count == 1)
            #expect(scheduler.recentJobs().first?.state == .cancelled)
        }
    }

    @Test func interactiveWorkGoesFirstAndReleasedOwnersCancelTheirJobs() async throws {
        try await Self.withScheduler(workers: 1) { scheduler in
            // Occupy the only worker.
            let gate = CancellationSignal(), busy = CancellationSignal()
            scheduler.submit(key: "busy", product: "busy", priority: .interactive, owner: "test") { _ in
                busy.fire()
                await gate.wait()
                return Self.result("busy")
            }
            await busy.wait()
            let order = Mutex([String]())
            for (key, priority) in [("regen", RenderPriority.regeneration), ("neighbour", .neighbour), ("hint", .hinted)] {
                scheduler.submit(key: key, product: key, priority: priority, owner: "bg") { _ in
                    order.withLock { $0.append(key) }
                    return Self.result(key)
                }
            }
            let dropped = scheduler.submit(key: "dropped", product: "dropped", priority: .hinted, owner: "session") { _ in
                order.withLock { $0.append("dropped") }
                return Self.result("dropped")
            }
            #expect(scheduler.release(owner: "session") == [dropped.id])
            #expect(scheduler.status(id: dropped.id)?.state == .cancelled)
            async let interactive = scheduler.render(key: "now", product: "now") { _ in
                order.withLock { $0.append("now") }
                return Self.result("now")
            }
            while scheduler.statistics().queued < 4 { try await Task.sleep(for: .milliseconds(5)) }
            gate.fire()
            _ = try await interactive
            while scheduler.statistics().queued > 0 || scheduler.statistics().running > 0 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(order.withLock { $0 } == ["now", "hint", "neighbour", "regen"])
        }
    }
}
