import AreoArchive
import AreoProducts
import Foundation
import Logging
import ServiceLifecycle

/// Background work that follows the catalogue: whenever its generation changes — an observation
/// became complete, a kernel, calibration set, shape model or reference map arrived — it runs a
/// pass over the observations touched since shortly before its previous pass, at background
/// priority (the work itself on the compute threads), so renders for users go first. Starting up,
/// it resumes from where its records say it last worked (everything, in a new archive).
///
/// Two follow the catalogue in a server (``corrections(products:database:logger:interval:)`` and
/// ``refinement(service:database:logger:interval:)``); each can be turned off.
public struct CatalogueFollower: Service {
    /// What the follower does, for its log.
    public let name: String
    let database: Database
    let logger: Logger
    let interval: Duration
    /// The database's clock now, and the time of the follower's newest record (nil: none yet).
    let clock: @Sendable () async throws -> (now: Date, resumeFrom: Date?)
    /// One pass over what was touched after a time; returns the observations it worked on.
    let pass: @Sendable (Date) async throws -> Int

    public init(
        name: String, database: Database, logger: Logger, interval: Duration = .seconds(2),
        clock: @escaping @Sendable () async throws -> (now: Date, resumeFrom: Date?), pass: @escaping @Sendable (Date) async throws -> Int
    ) {
        (self.name, self.database, self.logger, self.interval, self.clock, self.pass) = (name, database, logger, interval, clock, pass)
    }

    /// How far before a pass's start the next one looks (longer than a load's write transaction).
    static let commitMargin: TimeInterval = 120

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let catalog = ObservationCatalog(database: database, logger: logger)
            var seen: Int64? = nil
            var since: Date? = nil
            while !Task.isCancelled {
                do {
                    let generation = try await catalog.generation()
                    if generation != seen {
                        let clock = try await self.clock()
                        let from = since ?? clock.resumeFrom?.addingTimeInterval(-Self.commitMargin) ?? .distantPast
                        let pass = self.pass
                        // At background priority; a shutdown cancels the pass too (not just the wait for it).
                        let work = Task(priority: .background) { try await pass(from) }
                        let done = try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
                        // The next pass looks at what changes from shortly before this one's start on:
                        // a row's `changed_at` (a map's `loaded_at`) is its transaction's start, which
                        // may precede this pass while committing after it.
                        (seen, since) = (generation, clock.now.addingTimeInterval(-Self.commitMargin))
                        if done > 0 { logger.info("\(name): pass done", metadata: ["observations": "\(done)"]) }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if !Task.isCancelled { logger.warning("\(name): pass failed", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

extension CatalogueFollower {
    /// Estimates the corrections (mechanism offset, straylight ε) of every observation as soon as
    /// it is complete or what applies to it changes
    /// (``ProductService/estimateCorrections(touchedSince:page:)``): a first product then finds
    /// them stored instead of waiting for the estimate.
    public static func corrections(products: ProductService, database: Database, logger: Logger, interval: Duration = .seconds(2)) -> Self {
        let repository = ObservationCorrectionsRepository(database: database, logger: logger)
        return Self(
            name: "automatic corrections", database: database, logger: logger, interval: interval,
            clock: { let c = try await repository.clock(); return (c.now, c.lastEstimate) },
            pass: { try await products.estimateCorrections(touchedSince: $0) })
    }

    /// Refines geometry automatically (ICD §12): the observations touched since the previous pass
    /// that ``GeometryRefinementRepository/candidates(touchedSince:after:limit:)`` finds, resuming
    /// from the last automatic refinement.
    public static func refinement(service: GeometryRefinementService, database: Database, logger: Logger, interval: Duration = .seconds(2)) -> Self {
        let repository = GeometryRefinementRepository(database: database, logger: logger)
        return Self(
            name: "automatic refinement", database: database, logger: logger, interval: interval,
            clock: { let c = try await repository.clock(); return (c.now, c.lastAutomatic) },
            pass: { try await service.refineCandidates(touchedSince: $0) })
    }
}
