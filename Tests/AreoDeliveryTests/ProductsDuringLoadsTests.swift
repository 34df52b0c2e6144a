import AreoDelivery
import AreoProcessing
import AreoProducts
import AreoArchive
import AreoTelemetry
import AreoTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A client hammering one product while loads change what it is made from never receives a
/// product made with inputs older than the last load that had returned when it asked.
@Suite(.serialized) struct ProductsDuringLoadsTests {
    @Test func noProductIsOlderThanTheLastLoadThatReturned() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await SampleArchive.load(kernel: "predicted", into: database)
            let logger = TestDatabase.logger
            let loads = ArchiveLoads(database: database, logger: logger)
            let directory = URL(fileURLWithPath: "/tmp/areo-hammer-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: directory) }
            let cache = try ProductCache(directory: directory, budgetBytes: 1 << 30, logger: logger)
            let scheduler = RenderScheduler(workers: 2, logger: logger)
            let delivery = await ProductDelivery(database: database, cache: cache, scheduler: scheduler, metrics: DeliveryMetrics(),
                                                 configuration: .init(neighbours: 0), logger: logger)
            let request = try ProductRequest(observationID: 5301, kind: .projected, bands: [.pan], scale: 40, format: .png)

            // The loads, in order; after each one returns, what the product must be made from.
            let kernels = SampleArchive.tinyClean.appendingPathComponent("geometry")
            let reconstructed = try Data(contentsOf: kernels.appendingPathComponent("reconstructed.json"))
            // The same kernel with other bytes (whitespace): each a new input under the same id.
            let respaced = Data((String(decoding: reconstructed, as: UTF8.self) + "\n ").utf8)
            let respacedAgain = Data((String(decoding: reconstructed, as: UTF8.self) + "\n  ").utf8)
            let steps: [(String, @Sendable () async throws -> Void)] = [
                ("reconstructed", { _ = try await loads.kernels([(reconstructed, "reconstructed.json")]) }),
                ("reconstructed replaced", { _ = try await loads.kernels([(respaced, "reconstructed.json")], replace: true) }),
                ("reconstructed replaced again", { _ = try await loads.kernels([(respacedAgain, "reconstructed.json")], replace: true) }),
            ]
            let shared = Shared()
            func current() async throws -> String {
                let entry = try #require(try await ObservationCatalog(database: database, logger: logger).entry(observationID: 5301))
                return "\(entry.kernelID ?? "-") \(entry.inputsDigest)"
            }
            let initial = try await current()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scheduler.run() }
                // The client: request after request, each checked against the loads returned before it asked.
                for _ in 0..<3 {
                    group.addTask {
                        while !shared.done.load(ordering: .acquiring) {
                            let before = shared.returned.load(ordering: .acquiring)
                            guard let entry = try await delivery.entry(observationID: 5301) else { continue }
                            let product = try await delivery.product(request, entry: entry)
                            let made = "\(product.entry.attributes["kernel"] ?? "-") \(product.entry.attributes["inputs"] ?? "-")"
                            shared.observed.withLock { $0.append((before, made)) }
                        }
                    }
                }
                // The loads, one after another while the clients run.
                try await Task.sleep(for: .milliseconds(300))
                for (name, load) in steps {
                    try await load()
                    let now = try await current()
                    shared.expected.withLock { $0.append(now) }
                    shared.returned.add(1, ordering: .releasing)
                    logger.info("load returned", metadata: ["load": "\(name)", "inputs": "\(now)"])
                    // Until a request made after this load has been answered (a render with new
                    // inputs estimates the observation's corrections first: seconds in a debug build).
                    let returned = shared.returned.load(ordering: .acquiring)
                    let deadline = ContinuousClock.now + .seconds(120)
                    while !shared.observed.withLock({ $0.contains { $0.0 == returned } }), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                // Until a request made after the last load has been answered (renders may be slow).
                let deadline = ContinuousClock.now + .seconds(120)
                while !shared.observed.withLock({ $0.contains { $0.0 == steps.count } }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                shared.done.store(true, ordering: .releasing)
                // Stop the scheduler once the clients are shared.done.
                try await Task.sleep(for: .milliseconds(500))
                group.cancelAll()
            }
            let states = [initial] + shared.expected.withLock { $0 }
            #expect(Set(states).count == 4, "each load changed the inputs: \(states)")
            let seen = shared.observed.withLock { $0 }
            #expect(seen.count >= 6, "the clients were served throughout")
            #expect(Set(seen.map(\.0)).count == 4, "requests were made after every load")
            for (before, made) in seen {
                // States in load order: the product's is that of the last load returned before it asked, or a later one.
                let index = try #require(states.firstIndex(of: made), "a product made from unknown inputs: \(made)")
                #expect(index >= before, "after \(before) loads a product of state \(index) (\(made)) was served")
            }
        }
    }

    /// What the clients and the loader share.
    final class Shared: Sendable {
        /// (kernel, inputs digest) after each load that returned, in order.
        let expected = Mutex<[String]>([])
        /// How many loads have returned.
        let returned = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        /// (loads returned when the request was made, the inputs its product was made from).
        let observed = Mutex<[(Int, String)]>([])
    }
}
