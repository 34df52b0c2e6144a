import AreoArchive
import AreoCompute
import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Logging
import Synchronization

/// Refines an observation's geometry from its own pixels (ICD §12) and puts the result into the
/// archive the way every input enters it: the refined kernel through ``ArchiveLoads`` (so the
/// catalogue moves to it and the observation's products regenerate), the attempt — accepted or
/// refused with its reason — in ``GeometryRefinementRepository``.
///
/// Base kernel: the applicable one, or, when a refined kernel applies, the kernel it was derived
/// from (refining again starts from the best unrefined geometry). Control: the reference map that
/// applies to the observation's footprint (``ReferenceMapRepository/applicable(to:among:)``) and up
/// to ``maximumControlObservations`` overlapping complete observations whose applicable kernel is
/// reconstructed or refined.
public struct GeometryRefinementService: Sendable {
    let products: ProductService
    let logger: Logger

    public init(products: ProductService, logger: Logger) {
        (self.products, self.logger) = (products, logger)
    }

    public static let maximumControlObservations = 2

    var database: Database { products.database }

    /// Refines `observationID` now. Concurrent calls for one observation in this process share one refinement.
    /// - Throws: ``ProcessingError`` when the observation is unknown or has nothing to refine
    ///   (no kernel, calibration or complete fragment); a refusal is a record, not an error.
    public func refine(observationID: Int, trigger: GeometryRefinementRepository.Trigger) async throws -> GeometryRefinementRepository.Record {
        let task = Self.running.withLock { flights -> Task<GeometryRefinementRepository.Record, any Error> in
            if let running = flights[observationID] { return running }
            let priority: TaskPriority? = trigger == .automatic ? .background : nil
            let task = Task<GeometryRefinementRepository.Record, any Error>(priority: priority) {
                defer { _ = Self.running.withLock { $0.removeValue(forKey: observationID) } }
                return try await withTaskExecutorPreference(ComputeThreads.shared) { try await refineNow(observationID: observationID, trigger: trigger) }
            }
            flights[observationID] = task
            return task
        }
        return try await task.value
    }

    private static let running = Mutex([Int: Task<GeometryRefinementRepository.Record, any Error>]())

    /// What one refinement works from.
    struct Plan {
        var entry: ObservationCatalog.Entry
        var base: InputRepository.KernelIdentity
        var map: ReferenceMapRepository.Stored?
        var observations: [ObservationCatalog.Entry]
        var controlNames: [String] {
            (map.map { ["map:\($0.mapID)@\($0.sha256.prefix(16))"] } ?? []) + observations.map { "observation:\($0.observationID)@\($0.kernelID ?? "")" }
        }
    }

    func plan(observationID: Int) async throws -> Plan {
        let catalog = ObservationCatalog(database: database, logger: logger)
        guard let entry = try await catalog.entry(observationID: observationID) else {
            throw ProcessingError(.notInArchive, "observation \(observationID) is not in the archive")
        }
        guard let kernelID = entry.kernelID else { throw ProcessingError(.noKernel, "no geometry kernel covers observation \(observationID); load one with `areo geometry load`") }
        let inputs = InputRepository(database: database, logger: logger)
        guard let applicable = try await inputs.kernelIdentities([kernelID])[kernelID] else { throw ProcessingError(.inputReplaced, "geometry kernel \(kernelID) vanished") }
        var base = applicable
        if applicable.kind == .refined, let origin = applicable.derivedFrom {
            guard let found = try await inputs.kernelIdentities([origin])[origin] else { throw ProcessingError(.inputReplaced, "geometry kernel \(origin) vanished") }
            base = found
        }
        var plan = Plan(entry: entry, base: base, map: nil, observations: [])
        guard let footprint = entry.footprint else { return plan }
        plan.map = ReferenceMapRepository(database: database, logger: logger).applicable(to: footprint, among: try await ReferenceMapRepository(database: database, logger: logger).list())
        // Overlapping observations with trusted geometry, nearest first.
        let near = try await catalog.neighbours(of: entry, limit: 20, publicOnly: false, reach: 0)
        let trusted = try await inputs.kernelIdentities(near.compactMap(\.kernelID))
        plan.observations = Array(near.filter { other in
            guard let f = other.footprint, other.status == "complete", let kernel = other.kernelID, let kind = trusted[kernel]?.kind, kind > .predicted else { return false }
            return f.south <= footprint.north && f.north >= footprint.south && [-360.0, 0, 360].contains { f.west + $0 <= footprint.east && f.east + $0 >= footprint.west }
        }.prefix(Self.maximumControlObservations))
        return plan
    }

    private func refineNow(observationID: Int, trigger: GeometryRefinementRepository.Trigger) async throws -> GeometryRefinementRepository.Record {
        let started = ContinuousClock.now
        let plan = try await plan(observationID: observationID)
        let entry = plan.entry
        guard let calibrationID = entry.calibrationID else {
            throw ProcessingError(.noCalibration, "no calibration set applies to observation \(observationID); load one with `areo calibration load`")
        }
        let base = try await InputRepository(database: database, logger: logger).kernel(plan.base.kernelID)
        let trajectory = Trajectory(kernel: base)
        let result: RefinementResult
        if plan.map == nil && plan.observations.isEmpty {
            // Nothing to match against: refused before anything is rendered.
            result = .refused(GeometryRefiner.noControl)
        } else {
            result = try await match(plan, calibrationID: calibrationID)
        }
        let repository = GeometryRefinementRepository(database: database, logger: logger)
        let id = try await repository.nextID()
        let mid = (trajectory.t(sclk: entry.startSCLK) + trajectory.t(sclk: entry.endSCLK)) / 2
        var record = GeometryRefinementRepository.Record(
            id: id, observationID: observationID, baseKernelID: plan.base.kernelID, baseKernelKind: plan.base.kind.rawValue, baseKernelSHA256: plan.base.sha256,
            controls: plan.controlNames, trigger: trigger, accepted: false, reason: result.reason, refinedKernelID: nil, observationMidT: mid,
            result: result, refinedAt: Date())
        if result.accepted, let correction = result.correction {
            let kernelID = "refined-\(observationID)-r\(id)"
            let kernel = correction.refinedKernel(
                from: base, id: kernelID, produced: GroundTime.iso8601(Date()), coverage: [entry.startSCLK, entry.endSCLK],
                derivedFrom: .init(kernelID: plan.base.kernelID, referenceMaps: plan.map.map { [$0.mapID] } ?? [], observations: plan.observations.map(\.observationID)),
                refinement: .init(
                    correction: correction, timeOffsetSigmaSeconds: result.timeOffsetSigmaSeconds ?? 0,
                    attitudeBiasSigmaDegrees: result.attitudeBiasSigmaDegrees ?? [], attitudeBiasRateSigmaDegreesPerSecond: result.attitudeBiasRateSigmaDegreesPerSecond,
                    ties: result.ties, residualRMSPixels: result.residualRMSAfterPixels ?? 0, residualMedianPixels: result.residualMedianAfterPixels ?? 0))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            do {
                _ = try await ArchiveLoads(database: database, logger: logger).kernels([(try encoder.encode(kernel), "\(kernelID).json")])
                record.accepted = true
                record.refinedKernelID = kernelID
            } catch {
                record.reason = "the refined kernel was not stored: \(error)"
            }
        }
        try await repository.record(record)
        logger.info("geometry refined", metadata: [
            "observation": "\(observationID)", "accepted": "\(record.accepted)", "base_kernel": "\(plan.base.kernelID)",
            "refined_kernel": "\(record.refinedKernelID ?? "-")", "reason": "\(record.reason ?? "-")", "ties": "\(result.ties)",
            "time_offset_s": "\(result.correction.map { String(format: "%.4f", $0.timeOffsetSeconds) } ?? "-")",
            "residual_rms_px": "\(result.residualRMSAfterPixels.map { String(format: "%.3f", $0) } ?? "-")",
            "seconds": "\(ProductService.seconds(ContinuousClock.now - started))",
        ])
        return record
    }

    /// The observation (with its base kernel) matched against the plan's controls.
    private func match(_ plan: Plan, calibrationID: String) async throws -> RefinementResult {
        let observationID = plan.entry.observationID
        let inputs = try await products.inputs(
            observationID: observationID, pinned: ProductProvenance(kernelID: plan.base.kernelID, calibrationID: calibrationID, shapeModels: plan.entry.shapeModelIDs))
        var controls: [RefinementControl] = []
        if let stored = plan.map {
            controls.append(RefinementControl(.referenceMap(try await ReferenceMapRepository(database: database, logger: logger).map(stored))))
        }
        for other in plan.observations {
            let otherInputs = try await products.inputs(observationID: other.observationID)
            controls.append(RefinementControl(.observation(
                id: other.observationID, processor: otherInputs.processor, framelets: otherInputs.framelets, payload: payloads(other.observationID))))
        }
        let bands = Set(inputs.framelets.compactMap(\.header.band))
        let wanted: Band = {
            if let stored = plan.map, let band = Band(name: stored.band), bands.contains(band) { return band }
            return bands.contains(.pan) ? .pan : bands.sorted { $0.rawValue < $1.rawValue }.first ?? .pan
        }()
        return try await GeometryRefiner(processor: inputs.processor).refine(
            framelets: inputs.framelets, band: wanted, controls: controls, payload: payloads(observationID))
    }

    func payloads(_ observationID: Int) -> PayloadLoader {
        let fragments = FragmentRepository(database: database, logger: logger)
        return { reference in
            guard let band = reference.header.band,
                  let stored = try await fragments.fragment(observationID: observationID, framelet: Int(reference.header.frameletIndex), band: band)
            else { throw ProcessingError(.fragmentUnreadable, "fragment \(reference.header.frameletIndex) of observation \(observationID) vanished") }
            return Array(stored.payload)
        }
    }

    /// Refines what ``GeometryRefinementRepository/candidates(touchedSince:after:limit:)`` finds
    /// among the observations touched since `since`, one at a time, in pages of `page`; an
    /// observation whose plan was already tried with the same controls, or that has no control, is
    /// skipped. Returns how many were refined (accepted or refused).
    public func refineCandidates(touchedSince since: Date, page: Int = 20) async throws -> Int {
        let repository = GeometryRefinementRepository(database: database, logger: logger)
        return try await ObservationPass.run(
            page: page, logger: logger, failure: "automatic refinement failed",
            fetch: { try await repository.candidates(touchedSince: since, after: $0, limit: $1) }
        ) { id in
            let plan = try await plan(observationID: id)
            if plan.map == nil && plan.observations.isEmpty { return false }
            if try await repository.tried(observationID: id, baseKernelSHA256: plan.base.sha256, controls: plan.controlNames) { return false }
            _ = try await refine(observationID: id, trigger: .automatic)
            return true
        }
    }
}
