import AreoArchive
import AreoDelivery
import AreoProcessing
import AreoProducts
import AreoTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The corrections follower estimates an observation's corrections as soon as it is complete,
/// with nobody asking for a product, and again when what applies to it changes (here: the shape
/// models of tiny-terrain arrive); a product then finds the estimate stored.
@Suite(.serialized) struct CatalogueFollowerTests {
    @Test func correctionsAreEstimatedWhenObservationsCompleteAndWhenTheirInputsChange() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await SampleArchive.load(SampleArchive.tinyTerrain, kernel: "reconstructed", into: database)
            let ready = try await ObservationCatalog(database: database, logger: logger).processable(touchedSince: .distantPast, after: 0, limit: 100)
            #expect(ready == [5500])
            #expect(try await ObservationCatalog(database: database, logger: logger).processable(touchedSince: .distantPast, after: 5500, limit: 100).isEmpty)
            let repository = ObservationCorrectionsRepository(database: database, logger: logger)
            #expect(try await repository.history(observationID: 5500, publicOnly: false, limit: 10).isEmpty)

            let products = ProductService(database: database, logger: logger)
            let follower = CatalogueFollower.corrections(products: products, database: database, logger: logger, interval: .milliseconds(100))
            func estimates(until done: ([ObservationCorrectionsRepository.Record]) -> Bool) async throws -> [ObservationCorrectionsRepository.Record] {
                let deadline = ContinuousClock.now + .seconds(240)
                while ContinuousClock.now < deadline {
                    let found = try await repository.history(observationID: 5500, publicOnly: false, limit: 10)
                    if done(found) { return found }
                    try await Task.sleep(for: .milliseconds(200))
                }
                return try await repository.history(observationID: 5500, publicOnly: false, limit: 10)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await follower.run() }
                // Complete with a kernel and a calibration set: estimated without a product being asked for.
                let first = try await estimates { !$0.isEmpty }
                #expect(first.count == 1)
                #expect(first.first?.shapeModelIDs == [])
                // A product resolves the same inputs and finds the estimate stored (no second one).
                let inputs = try await products.inputs(observationID: 5500)
                #expect(inputs.provenance.corrections?.mechanismOffsetDegrees == first.first?.estimate.corrections.mechanismOffsetDegrees)
                #expect(try await repository.history(observationID: 5500, publicOnly: false, limit: 10).count == 1)
                // The terrain arrives: what applies changes, and the follower estimates again with it.
                _ = try await SampleArchive.loadShapeModels(into: database)
                let both = ["hrsc-like-fine", "mola-like-coarse"]
                let again = try await estimates { $0.contains { $0.shapeModelIDs == both } }
                #expect(again.contains { $0.shapeModelIDs == both }, "\(again.map(\.shapeModelIDs))")
                #expect(again.count <= 3, "one estimate per set of inputs: \(again.map(\.shapeModelIDs))")
                group.cancelAll()
            }
        }
    }

    /// Shutting down cancels a pass under way, not just the wait for it: the follower returns at
    /// once though its pass would take a minute.
    @Test func shutdownCancelsAPassUnderWay() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await SampleArchive.load(kernel: "reconstructed", into: database)
            let started = Started()
            let follower = CatalogueFollower(
                name: "slow", database: database, logger: logger, interval: .milliseconds(50),
                clock: { (Date(), nil) },
                pass: { _ in
                    started.mark()
                    try await Task.sleep(for: .seconds(60))
                    return 0
                })
            let runner = Task { try await follower.run() }
            while !started.isMarked { try await Task.sleep(for: .milliseconds(20)) }
            let cancelled = ContinuousClock.now
            runner.cancel()
            _ = await runner.result
            #expect(ContinuousClock.now - cancelled < .seconds(10), "the pass was cancelled with the follower")
        }
    }
}

/// Set once from the pass (another task), read by the test.
private final class Started: Sendable {
    private let flag = Mutex(false)
    func mark() { flag.withLock { $0 = true } }
    var isMarked: Bool { flag.withLock { $0 } }
}
