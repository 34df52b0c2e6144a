import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Foundation

/// What an observation's geometry is refined against (ICD §12): a reference map, or an
/// overlapping observation whose geometry is trusted (refined or reconstructed).
public struct RefinementControl: Sendable {
    public enum Source: Sendable {
        case referenceMap(ReferenceMap)
        /// The observation's processor (with its own geometry), its framelets of the band, and their payloads.
        case observation(id: Int, processor: ObservationProcessor, framelets: [FrameletReference], payload: PayloadLoader)
    }

    public var source: Source
    public init(_ source: Source) { self.source = source }

    /// How the control is named in records and tie points: the map id, or `observation:ID`.
    public var name: String {
        switch source {
        case .referenceMap(let map): map.id
        case .observation(let id, _, _, _): "observation:\(id)"
        }
    }
}

/// A refinement's result: the correction and its uncertainty when the tie points determine it,
/// else the reason it was refused; and the evidence either way.
public struct RefinementResult: Sendable, Codable, Equatable {
    public var accepted: Bool
    /// Why it was refused (nil when accepted).
    public var reason: String?
    public var correction: GeometryCorrection?
    public var timeOffsetSigmaSeconds: Double?
    public var attitudeBiasSigmaDegrees: [Double]?
    public var attitudeBiasRateSigmaDegreesPerSecond: [Double]?
    /// Covariance of the unknowns (Δt s, bias X, Y rad[, rates rad/s]).
    public var covariance: [[Double]]?
    public var ties: Int
    public var rejectedTies: Int
    /// Chips with contrast enough to be matched.
    public var texturedChips: Int
    /// Tie points per control.
    public var tiesPerControl: [String: Int]
    public var residualRMSBeforePixels: Double?
    public var residualRMSAfterPixels: Double?
    public var residualMedianAfterPixels: Double?
    /// 1σ of the corrected position of the observation's centre, camera pixels.
    public var positionSigmaPixels: Double?
    /// The overall shift found between the observation and its control, metres.
    public var shiftBeforeMetres: Double?
    /// Metres per pixel of the matching, and of the camera.
    public var matchingScale: Double
    public var cameraScale: Double
    public var withRate: Bool

    /// A refusal decided before any matching.
    public static func refused(_ reason: String) -> RefinementResult {
        RefinementResult(accepted: false, reason: reason, ties: 0, rejectedTies: 0, texturedChips: 0, tiesPerControl: [:], matchingScale: 0, cameraScale: 0, withRate: false)
    }

    enum CodingKeys: String, CodingKey {
        case accepted, reason, correction, covariance, ties
        case timeOffsetSigmaSeconds = "time_offset_sigma_s", attitudeBiasSigmaDegrees = "attitude_bias_sigma_deg"
        case attitudeBiasRateSigmaDegreesPerSecond = "attitude_bias_rate_sigma_deg_per_s"
        case rejectedTies = "rejected_ties", texturedChips = "textured_chips", tiesPerControl = "ties_per_control"
        case residualRMSBeforePixels = "residual_rms_before_px", residualRMSAfterPixels = "residual_rms_after_px"
        case residualMedianAfterPixels = "residual_median_after_px", positionSigmaPixels = "position_sigma_px"
        case shiftBeforeMetres = "shift_before_m", matchingScale = "matching_scale_m", cameraScale = "camera_scale_m", withRate = "with_rate"
    }
}

/// Derives an observation's geometry correction from its own pixels (ICD §12).
///
/// 1. The observation's band is projected with its current geometry onto a grid at the control's
///    scale (rendered at a whole fraction of it near the camera's and averaged down, so it is seen
///    as the coarser control sees the ground), grown by ``Rules/maximumShiftMetres`` each side.
/// 2. Each control is brought onto the same grid (a reference map sampled bilinearly, an
///    observation projected with its own geometry).
/// 3. The overall shift is found coarse to fine, then chips on a regular grid are matched around
///    it and refined to sub-pixel (``AreaMatching``).
/// 4. Each match is a tie point: the detector position that saw the chip's centre with the current
///    geometry, and the ground point (on the terrain) where the control shows it.
/// 5. ``RefinementSolver`` fits the time offset and attitude bias (and their rates when the ties
///    span most of the observation, the rates stand 5σ out and the residuals drop by a tenth).
/// 6. The solution is refused when fewer than ``Rules/minimumTies`` tie points survive, their
///    residuals exceed ``Rules/maximumResidualControlPixels``, or the corrected position's 1σ
///    exceeds ``Rules/maximumPositionSigmaPixels``.
public struct GeometryRefiner: Sendable {
    public struct Rules: Sendable {
        /// How far predicted geometry may misplace an observation (ICD §12: up to a kilometre).
        public var maximumShiftMetres = 1_500.0
        public var minimumTies = 12
        public var maximumResidualControlPixels = 0.75
        public var maximumPositionSigmaPixels = 0.5
        /// A rate is fitted when the ties span this fraction of the observation's duration and there are this many.
        public var rateSpanFraction = 0.6
        public var rateMinimumTies = 40
        public var chips = AreaMatching.ChipRules()
        public init() {}
    }

    public let processor: ObservationProcessor
    public var rules = Rules()

    /// Why an observation with nothing to match against is refused.
    public static let noControl = "no control: no reference map meets the observation and no overlapping complete observation has refined or reconstructed geometry"


    public init(processor: ObservationProcessor) { self.processor = processor }

    /// The grid the matching is done on: the band's footprint grown by the largest shift, at
    /// `scale`; and the finer grid it is rendered on (`factor` times finer).
    public func matchingGrids(framelets: [FrameletReference], scale: Double, factor: Int) throws -> (coarse: MapGrid, fine: MapGrid) {
        let base = try processor.grid(for: framelets, scale: scale)
        let margin = Int((rules.maximumShiftMetres / scale).rounded(.up)) + rules.chips.half + rules.chips.search
        let coarse = MapGrid(projection: base.projection, scale: scale, minX: base.minX - Double(margin) * scale, maxY: base.maxY + Double(margin) * scale,
                             width: base.width + 2 * margin, height: base.height + 2 * margin)
        let fine = MapGrid(projection: coarse.projection, scale: scale / Double(factor), minX: coarse.minX, maxY: coarse.maxY,
                           width: coarse.width * factor, height: coarse.height * factor)
        return (coarse, fine)
    }

    /// Renders `framelets` of `band` with `processor` onto `fine` and averages it down `factor` times.
    static func image(
        of processor: ObservationProcessor, band: Band, framelets: [FrameletReference], fine: MapGrid, factor: Int, payload: @escaping PayloadLoader
    ) async throws -> AreaMatching.Image {
        let (mosaic, _) = try await processor.mosaic(band: band, framelets: framelets, grid: fine, payload: payload)
        return AreaMatching.Image(width: fine.width, height: fine.height, values: mosaic.iof).binned(factor)
    }

    /// A reference map sampled at the centres of `grid`'s pixels.
    static func image(of map: ReferenceMap, on grid: MapGrid) -> AreaMatching.Image {
        var values = [Float](repeating: .nan, count: grid.width * grid.height)
        for j in 0..<grid.height {
            for i in 0..<grid.width {
                let (x, y) = grid.center(column: i, row: j)
                let (latitude, longitude) = grid.projection.inverse(x: x, y: y)
                if let v = map.value(latitude: latitude, longitude: longitude) { values[j * grid.width + i] = v }
            }
        }
        return AreaMatching.Image(width: grid.width, height: grid.height, values: values)
    }

    /// Refines the geometry of the observation's `framelets` (those of `band` are matched)
    /// against `controls`, loading payloads through `payload`.
    public func refine(framelets all: [FrameletReference], band: Band, controls: [RefinementControl], payload: @escaping PayloadLoader) async throws -> RefinementResult {
        let framelets = all.filter { $0.header.band == band }.sorted { $0.header.frameletIndex < $1.header.frameletIndex }
        guard !framelets.isEmpty else { throw ProcessingError(.noUsableData, "the observation has no \(band.name) framelet to match") }
        let cameraScale = try processor.groundSampleDistance(framelets)
        let mapScales = controls.compactMap { control -> Double? in
            if case .referenceMap(let map) = control.source { return map.resolution }
            return nil
        }
        // At the finest reference map's scale; against observations alone, four camera pixels.
        let scale = max(cameraScale, mapScales.min() ?? 4 * cameraScale)
        let factor = max(1, min(6, Int((scale / cameraScale).rounded(.down))))
        var result = RefinementResult(
            accepted: false, ties: 0, rejectedTies: 0, texturedChips: 0, tiesPerControl: [:], matchingScale: scale, cameraScale: cameraScale, withRate: false)
        guard !controls.isEmpty else {
            result.reason = Self.noControl
            return result
        }
        let (coarse, fine) = try matchingGrids(framelets: framelets, scale: scale, factor: factor)
        let moving = try await Self.image(of: processor, band: band, framelets: framelets, fine: fine, factor: factor, payload: payload)
        let cameras = framelets.map { processor.camera(for: $0) }
        let solver = RefinementSolver(trajectory: processor.trajectory, camera: processor.camera, framelets: cameras.map(RefinementSolver.Framelet.init))
        let surface = { (x: Double, y: Double) -> Vector3 in
            let (latitude, longitude) = coarse.projection.inverse(x: x, y: y)
            return self.processor.terrain?.surfacePoint(latitude: latitude, longitude: longitude) ?? Ellipsoid.mars.surfacePoint(latitude: latitude, longitude: longitude)
        }
        var ties: [RefinementSolver.Tie] = []
        var shifts: [Double] = []
        for control in controls {
            try Task.checkCancellation()
            let fixed: AreaMatching.Image
            switch control.source {
            case .referenceMap(let map):
                fixed = Self.image(of: map, on: coarse)
            case .observation(_, let other, let otherFramelets, let otherPayload):
                let own = otherFramelets.filter { $0.header.band == band }
                guard !own.isEmpty else { continue }
                fixed = try await Self.image(of: other, band: band, framelets: own, fine: fine, factor: factor, payload: otherPayload)
            }
            guard let overall = AreaMatching.overallShift(moving, fixed, maximum: Int((rules.maximumShiftMetres / scale).rounded(.up))) else { continue }
            let (matches, textured) = AreaMatching.chips(moving, fixed, around: overall, rules: rules.chips)
            result.texturedChips += textured
            shifts.append((overall.dx * overall.dx + overall.dy * overall.dy).squareRoot() * scale)
            var count = 0
            for chip in matches {
                let (x, y) = coarse.center(column: chip.x, row: chip.y)
                let seen = surface(x, y)
                // The framelet that saw it nearest its middle line.
                var best: (index: Int, sample: Double, line: Double, margin: Double)? = nil
                for (index, view) in cameras.enumerated() {
                    guard let (c, r) = view.sampleCoordinates(of: seen),
                          c >= 0, r >= 0, c <= Double(view.samples - 1), r <= Double(view.lines - 1) else { continue }
                    let margin = min(r, Double(view.lines - 1) - r)
                    if best == nil || margin > best!.margin { best = (index, c, r, margin) }
                }
                guard let best else { continue }
                let ground = surface(x + chip.match.dx * scale, y - chip.match.dy * scale)
                ties.append(RefinementSolver.Tie(framelet: best.index, sample: best.sample, line: best.line, ground: ground, control: control.name))
                count += 1
            }
            result.tiesPerControl[control.name] = count
        }
        result.shiftBeforeMetres = shifts.min()
        guard ties.count >= rules.minimumTies else {
            result.ties = ties.count
            result.reason = "too few matches: \(ties.count) tie points from \(result.texturedChips) chips with contrast (at least \(rules.minimumTies) needed) — the ground is featureless at \(Int(scale.rounded())) m per pixel, or the control does not show it"
            return result
        }
        guard var solution = solver.solve(ties) else {
            result.ties = ties.count
            result.reason = "the tie points do not determine a correction (the normal equations are singular)"
            return result
        }
        // A rate where the ties span most of the observation and it comes out significant.
        let times = solution.kept.map { solver.framelets[$0.framelet].midTime }
        let duration = (cameras.map(\.state.t).max() ?? 0) - (cameras.map(\.state.t).min() ?? 0)
        if solution.kept.count >= rules.rateMinimumTies, duration > 0, let low = times.min(), let high = times.max(),
           (high - low) >= rules.rateSpanFraction * duration, let withRate = solver.solve(ties, withRate: true), let sigma = withRate.rateSigma {
            // Neighbouring chips overlap, so their errors are not independent: a rate must stand
            // out well beyond its formal σ and make the fit clearly better.
            let rate = solver.unknowns(withRate.correction, withRate: true)
            let better = RefinementSolver.Solution.rms(withRate.residualsAfter) <= 0.9 * RefinementSolver.Solution.rms(solution.residualsAfter)
            if (abs(rate[2]) > 5 * sigma.roll || abs(rate[3]) > 5 * sigma.pitch) && better { solution = withRate }
        }
        // A covariance that is not one (rounding in a near-singular system) determines nothing.
        guard solution.covariance.joined().allSatisfy(\.isFinite), solution.covariance.indices.allSatisfy({ solution.covariance[$0][$0] >= 0 }) else {
            result.ties = solution.kept.count
            result.reason = "poorly constrained: the tie points do not determine the correction (the normal equations are near singular)"
            return result
        }
        result.withRate = solution.withRate
        result.ties = solution.kept.count
        result.rejectedTies = solution.rejected + (ties.count - solution.kept.count - solution.rejected)
        result.tiesPerControl = Dictionary(grouping: solution.kept, by: \.control).mapValues(\.count)
        result.residualRMSBeforePixels = RefinementSolver.Solution.rms(solution.residualsBefore)
        result.residualRMSAfterPixels = RefinementSolver.Solution.rms(solution.residualsAfter)
        result.residualMedianAfterPixels = RefinementSolver.Solution.median(solution.residualsAfter)
        result.covariance = solution.covariance
        result.timeOffsetSigmaSeconds = solution.timeOffsetSigma
        let degrees = 180 / Double.pi
        // Per instrument axis: the roll's σ along its axis (the pitch is taken by the timing).
        let axis = solver.alongTrack
        result.attitudeBiasSigmaDegrees = [abs(axis.x), abs(axis.y), 0].map { $0 * solution.rollSigma * degrees }
        result.attitudeBiasRateSigmaDegreesPerSecond = solution.rateSigma.map { s in
            [0, 1].map { k in (pow(axis[k] * s.roll, 2) + pow(solver.acrossTrack[k] * s.pitch, 2)).squareRoot() * degrees } + [0]
        }
        result.positionSigmaPixels = Self.positionSigma(solution, solver: solver)
        result.correction = solution.correction
        guard solution.kept.count >= rules.minimumTies else {
            result.reason = "too few consistent matches: \(solution.kept.count) tie points survive outlier rejection (at least \(rules.minimumTies) needed)"
            return result
        }
        let residualControlPixels = (result.residualRMSAfterPixels ?? .infinity) * cameraScale / scale
        guard residualControlPixels <= rules.maximumResidualControlPixels else {
            result.reason = String(format: "residuals too large: %.2f control pixels RMS after the fit (at most %.2f)", residualControlPixels, rules.maximumResidualControlPixels)
            return result
        }
        guard let sigma = result.positionSigmaPixels, sigma <= rules.maximumPositionSigmaPixels else {
            result.reason = String(format: "poorly constrained: the corrected position's 1σ is %.2f camera pixels (at most %.2f)",
                                   result.positionSigmaPixels ?? .infinity, rules.maximumPositionSigmaPixels)
            return result
        }
        result.accepted = true
        return result
    }

    /// 1σ (camera pixels) of where the observation's middle tie is seen, from the covariance.
    static func positionSigma(_ solution: RefinementSolver.Solution, solver: RefinementSolver) -> Double? {
        guard let tie = solution.kept.sorted(by: { $0.framelet < $1.framelet }).dropFirst(solution.kept.count / 2).first,
              let r0 = solver.residual(tie, solution.correction) else { return nil }
        let n = solution.covariance.count
        let p = solver.unknowns(solution.correction, withRate: solution.withRate)
        let steps = RefinementSolver.steps
        var jx = [Double](repeating: 0, count: n), jy = jx
        for k in 0..<n {
            var q = p
            q[k] += steps[k]
            let c = solver.correction(q, epoch: solution.correction.epoch)
            guard let r = solver.residual(tie, c) else { return nil }
            jx[k] = (r.0 - r0.0) / steps[k]
            jy[k] = (r.1 - r0.1) / steps[k]
        }
        var vx = 0.0, vy = 0.0
        for a in 0..<n {
            for b in 0..<n {
                vx += jx[a] * solution.covariance[a][b] * jx[b]
                vy += jy[a] * solution.covariance[a][b] * jy[b]
            }
        }
        return (vx + vy).squareRoot()
    }
}
