import AreoArchive
import AreoCompute
import AreoProcessing
import AreoTelemetry
import Foundation
import Logging
import Synchronization

/// When an observation's estimated corrections are anomalies for the operations team.
public struct CorrectionPolicy: Sendable, Equatable {
    /// An estimated mechanism offset beyond this (degrees, either sign) is an anomaly (ICD §8:
    /// typically |offset| < 0.3°).
    public var mechanismOffsetLimitDegrees: Double
    /// Straylight removed beyond this fraction of the exposed framelets' signal is an anomaly.
    public var straylightAnomalyFraction: Double

    public init(mechanismOffsetLimitDegrees: Double = 0.3, straylightAnomalyFraction: Double = 0.05) {
        (self.mechanismOffsetLimitDegrees, self.straylightAnomalyFraction) = (mechanismOffsetLimitDegrees, straylightAnomalyFraction)
    }
}

extension ProductService {
    /// The corrections of an observation for one set of inputs: the estimate stored under
    /// `inputsKey`, else estimated now (once per process at a time: concurrent renders of the
    /// observation wait for the same estimate), stored, and reported as an anomaly when beyond
    /// the ``CorrectionPolicy``.
    public func corrections(
        observationID: Int, inputsKey: String, startSCLK: Double, provenance: ProductProvenance,
        processor: ObservationProcessor, framelets: [FrameletReference]
    ) async throws -> CorrectionEstimate {
        let repository = ObservationCorrectionsRepository(database: database, logger: logger)
        if let known = try await repository.find(observationID: observationID, inputsKey: inputsKey) { return known.estimate }
        let flightKey = "\(observationID)|\(inputsKey)"
        let (database, logger, policy) = (self.database, self.logger, self.corrections)
        let task = Self.estimations.withLock { flights -> Task<CorrectionEstimate, any Error> in
            if let running = flights[flightKey] { return running }
            let fragments = FragmentRepository(database: database, logger: logger)
            let task = Task<CorrectionEstimate, any Error> {
                defer { _ = Self.estimations.withLock { $0.removeValue(forKey: flightKey) } }
                let started = ContinuousClock.now
                let estimate = try await processor.estimateCorrections(framelets: framelets) { reference in
                    guard let band = reference.header.band,
                          let stored = try await fragments.fragment(observationID: observationID, framelet: Int(reference.header.frameletIndex), band: band)
                    else { throw ProcessingError(.fragmentUnreadable, "fragment \(reference.header.frameletIndex) vanished") }
                    return Array(stored.payload)
                }
                let stored = try await repository.record(.init(
                    observationID: observationID, inputsKey: inputsKey, observationStartSCLK: startSCLK, kernelID: provenance.kernelID,
                    calibrationID: provenance.calibrationID, shapeModelIDs: provenance.shapeModels, estimate: estimate))
                logger.info("corrections estimated", metadata: [
                    "observation": "\(observationID)", "mechanism_offset_deg": "\(estimate.mechanism.offsetDegrees)",
                    "uncertainty_deg": "\(estimate.mechanism.uncertaintyDegrees.map { "\($0)" } ?? "-")",
                    "fringing_px": "\(estimate.mechanism.fringingBefore.map { "\($0)" } ?? "-") -> \(estimate.mechanism.fringingAfter.map { "\($0)" } ?? "-")",
                    "straylight_epsilon": "\(estimate.straylight.epsilon.map { "\($0)" } ?? "-")",
                    "seconds": "\((ContinuousClock.now - started).components.seconds)",
                ])
                try await Self.reportAnomalies(stored.estimate, observationID: observationID, inputsKey: inputsKey, policy: policy, database: database, logger: logger)
                return stored.estimate
            }
            flights[flightKey] = task
            return task
        }
        return try await task.value
    }

    /// Estimates the corrections of the complete observations touched since `since` that have
    /// none for the inputs that apply to them now — what a server does as soon as an observation
    /// completes (or its kernel, calibration or terrain changes), so its first product does not
    /// wait for the estimate. One observation at a time, on the compute threads; an observation
    /// that cannot be processed is logged and skipped. Returns the observations that now have
    /// corrections for their inputs (estimated in this pass or found stored).
    public func estimateCorrections(touchedSince since: Date, page: Int = 50) async throws -> Int {
        let catalog = ObservationCatalog(database: database, logger: logger)
        return try await ObservationPass.run(
            page: page, logger: logger, failure: "corrections not estimated",
            fetch: { try await catalog.processable(touchedSince: since, after: $0, limit: $1) }
        ) { id in
            // Resolving the inputs estimates the corrections when none are stored for them.
            _ = try await withTaskExecutorPreference(ComputeThreads.shared) { try await inputs(observationID: id) }
            return true
        }
    }

    /// Estimates running now, by observation and inputs.
    private static let estimations = Mutex([String: Task<CorrectionEstimate, any Error>]())

    static func reportAnomalies(
        _ estimate: CorrectionEstimate, observationID: Int, inputsKey: String, policy: CorrectionPolicy, database: Database, logger: Logger
    ) async throws {
        var anomalies: [Anomaly] = []
        let mechanism = estimate.mechanism
        if abs(mechanism.offsetDegrees) > policy.mechanismOffsetLimitDegrees {
            anomalies.append(Anomaly(
                kind: .mechanismOffset, severity: .warning, observationID: observationID,
                evidence: ["offset_deg": String(mechanism.offsetDegrees), "uncertainty_deg": mechanism.uncertaintyDegrees.map { String($0) } ?? "",
                           "limit_deg": String(policy.mechanismOffsetLimitDegrees),
                           "fringing_before_px": mechanism.fringingBefore.map { String($0) } ?? "", "fringing_after_px": mechanism.fringingAfter.map { String($0) } ?? ""],
                dedupKey: "mechanism_offset:\(observationID):\(inputsKey)"))
        }
        let straylight = estimate.straylight
        if straylight.removedFraction > policy.straylightAnomalyFraction {
            anomalies.append(Anomaly(
                kind: .straylight, severity: .info, observationID: observationID,
                evidence: ["removed_fraction": String(straylight.removedFraction), "amplitude_dn_per_s": String(straylight.amplitude),
                           "epsilon": straylight.epsilon.map { String($0) } ?? "", "exposed_framelets": String(straylight.exposedFramelets)],
                dedupKey: "straylight:\(observationID):\(inputsKey)"))
        }
        if !anomalies.isEmpty { try await AnomalyRecorder(database: database, logger: logger).record(anomalies) }
    }
}
