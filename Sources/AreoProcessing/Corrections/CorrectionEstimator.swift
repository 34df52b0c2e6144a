import AreoCompute
import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Estimates an observation's corrections from its own pixels (docs/processing.md, "The rotation
/// mechanism's offset" and "Straylight"):
///
/// - **Mechanism offset δ.** Each band is projected onto one grid (a window of at most
///   ``windowSide`` pixels at the observation's ground sample distance, where every band has
///   ground) with θ = commanded + δ, and its shift against the band nearest the principal point is
///   measured (sub-pixel, standardised values). A rotation about the boresight moves a band at row
///   offset Δy from the principal point sideways by δ·Δy, so the shifts vanish at the true δ. A
///   coarse search over ±``searchHalfWidthDegrees`` (at a quarter of the resolution) brackets the
///   minimum of the summed squared shifts; Gauss–Newton steps at full resolution with the shifts'
///   derivative from the geometry (how far each band's ground moves on the grid per degree) then
///   fit δ, and the residual shifts give its standard deviation.
///   An observation of one band measures consecutive framelets against each other instead.
/// - **Straylight ε.** Overlapping framelets see one ground point at different detector rows,
///   where the pattern differs: with the nominal amplitude removed, the I/F left differs between
///   them by ε·(u₁ − u₂) (u the nominal straylight in I/F at each), so ε is the least-squares slope
///   of those differences, outliers (beyond 3 robust σ) rejected.
extension ObservationProcessor {
    /// The estimation grid's largest side, pixels.
    public static let windowSide = 384
    /// The coarse search covers ±this, degrees (ICD §8: typically |offset| < 0.3°).
    public static let searchHalfWidthDegrees = 0.5
    public static let searchStepDegrees = 0.1
    /// Pairs of overlapping framelets compared per band for ε, at most.
    public static let straylightPairsPerBand = 6

    /// Estimates the corrections of the observation made of `framelets` (payloads through `payload`).
    public func estimateCorrections(framelets: [FrameletReference], payload: @escaping PayloadLoader) async throws -> CorrectionEstimate {
        let usable = framelets.filter { $0.header.band != nil && calibrator.set.arrays[$0.header.band!] != nil }
        guard !usable.isEmpty else { throw ProcessingError(.noUsableData, "no framelet of the observation has a calibrated band") }
        let base = with(.none)
        // Straylight exposure by framelet (α from the kernel's Sun and the boresight).
        var exposure: [FrameletReference: Double] = [:]
        for reference in usable {
            let amplitude = base.expectedStraylight(reference, camera: base.camera(for: reference))
            if amplitude > 0 { exposure[reference] = amplitude }
        }
        let window = try base.estimationWindow(usable)
        var wanted = Set(usable.filter { MosaicBuilder.meets(base.camera(for: $0), grid: window) })
        let straylightPairs = Self.straylightPairs(usable, exposed: exposure)
        for (a, b) in straylightPairs { wanted.insert(a); wanted.insert(b) }
        // Decoded once, calibrated with the nominal straylight removed, the removed I/F kept.
        var calibrated: [FrameletReference: CalibratedFramelet] = [:]
        // Side by side, a few at a time (each framelet's decoding is one core's work).
        let needed = usable.filter { wanted.contains($0) }
        try await withThrowingTaskGroup(of: (FrameletReference, CalibratedFramelet).self) { group in
            var next = 0
            func start() {
                guard next < needed.count else { return }
                let reference = needed[next]
                next += 1
                let keep = exposure[reference] != nil
                group.addTask { (reference, try base.calibrate(reference, payload: try await payload(reference), keepStraylight: keep)) }
            }
            for _ in 0..<(ComputeThreads.shared.threadCount + 2) { start() }
            while let (reference, framelet) = try await group.next() {
                calibrated[reference] = framelet
                start()
            }
        }
        let mechanism = try mechanismOffset(calibrated: calibrated, window: window)
        let corrected = base.with(ObservationCorrections(mechanismOffsetDegrees: mechanism.offsetDegrees))
        var straylight = corrected.straylightEpsilon(pairs: straylightPairs, calibrated: calibrated, exposure: exposure)
        let epsilon = straylight.epsilon
        let amplitudes = exposure.values.map { $0 * (1 + (epsilon ?? 0)) }.sorted()
        straylight.amplitude = amplitudes.isEmpty ? 0 : amplitudes[amplitudes.count / 2]
        // The fraction removed: the nominal straylight's I/F against the signal left, over the exposed framelets held.
        var removed = 0.0, signal = 0.0
        for (reference, framelet) in calibrated {
            guard let nominal = exposure[reference], let unit = framelet.straylightIoF else { continue }
            let amplitude = nominal * (1 + (epsilon ?? 0))
            var removedHere = 0.0, signalHere = 0.0
            for k in framelet.iof.indices where framelet.iof[k].isFinite {
                removedHere += Double(unit[k])
                signalHere += Double(framelet.iof[k])
            }
            // Σ iof − Σ unit·(amplitude − nominal): the signal with ε's share of the straylight removed too.
            removed += removedHere * amplitude
            signal += signalHere - removedHere * (amplitude - nominal)
        }
        straylight.removedFraction = signal > 0 ? removed / signal : 0
        return CorrectionEstimate(
            corrections: ObservationCorrections(mechanismOffsetDegrees: mechanism.offsetDegrees, straylightEpsilon: exposure.isEmpty ? nil : (epsilon ?? 0)),
            mechanism: mechanism, straylight: straylight)
    }

    /// The observation's ground sample distance at its centre, metres per pixel.
    public func groundSampleDistance(_ framelets: [FrameletReference]) throws -> Double {
        let centre = try centre(of: framelets)
        let view = camera(for: framelets[framelets.count / 2])
        let range = (centre.point - view.state.position).length * 1000
        return range * camera.pixelPitchMM / camera.focalLengthMM * Double(max(1, view.binning))
    }

    /// The grid the offset is measured on: where every band has ground, at the ground sample
    /// distance, cut to its central ``windowSide`` pixels.
    func estimationWindow(_ framelets: [FrameletReference]) throws -> MapGrid {
        let bands = Array(Set(framelets.compactMap(\.header.band))).sorted { $0.rawValue < $1.rawValue }
        let scale = try groundSampleDistance(framelets)
        let full = try grid(for: framelets, scale: scale, commonTo: bands.count > 1 ? bands : nil)
        let width = min(full.width, Self.windowSide), height = min(full.height, Self.windowSide)
        let column = (full.width - width) / 2, row = (full.height - height) / 2
        return MapGrid(projection: full.projection, scale: scale, minX: full.minX + Double(column) * scale,
                       maxY: full.maxY - Double(row) * scale, width: width, height: height)
    }

    /// The same window at `factor` times the scale.
    static func coarser(_ grid: MapGrid, by factor: Int) -> MapGrid {
        MapGrid(projection: grid.projection, scale: grid.scale * Double(factor), minX: grid.minX, maxY: grid.maxY,
                width: max(1, grid.width / factor), height: max(1, grid.height / factor))
    }

    // MARK: Mechanism offset

    /// Misregistration vectors (pixels) with the mechanism's offset `delta`, labelled.
    func misregistration(delta: Double, calibrated: [FrameletReference: CalibratedFramelet], grid: MapGrid) -> [(String, Double, Double)] {
        let trial = with(ObservationCorrections(mechanismOffsetDegrees: delta, straylightEpsilon: corrections.straylightEpsilon))
        let byBand = Dictionary(grouping: calibrated.keys, by: { $0.header.band! }).mapValues { $0.sorted { $0.header.frameletIndex < $1.header.frameletIndex } }
        let spacing = nodeSpacing(on: grid)
        var mosaics: [Band: BandMosaic] = [:]
        var measured: [(String, Double, Double)] = []
        for (band, references) in byBand.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var builder = MosaicBuilder(grid: grid)
            builder.nodeSpacing = spacing
            var previous: (FrameletReference, ProjectedFramelet)? = nil
            for reference in references {
                let projected = builder.add(calibrated[reference]!, camera: trial.camera(for: reference))
                if byBand.count == 1, let projected, let (before, framelet) = previous,
                   let shift = projected.offset(onto: framelet, iterations: 20) {
                    measured.append(("\(band.name) \(before.header.frameletIndex)/\(reference.header.frameletIndex)", shift.dx, shift.dy))
                }
                if let projected { previous = (reference, projected) }
            }
            mosaics[band] = builder.finish()
        }
        guard mosaics.count > 1 else { return measured }
        // The reference: the band whose window is nearest the principal point (moved least by δ).
        let rows = Dictionary(grouping: calibrated.keys, by: { $0.header.band! }).mapValues { refs in
            Double(refs[0].header.windowFirstRow) + Double(refs[0].header.lines * Int(refs[0].header.binning)) / 2
        }
        let reference = mosaics.keys.min { abs(rows[$0]! - camera.principalPoint.y) < abs(rows[$1]! - camera.principalPoint.y) }!
        let width = grid.width
        let fixed = Self.localContrast(mosaics[reference]!.iof, width: width, height: grid.height)
        for (band, mosaic) in mosaics.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where band != reference {
            let moving = Self.localContrast(mosaic.iof, width: width, height: grid.height)
            func at(_ values: [Float], _ i: Int, _ j: Int) -> Float {
                guard i >= 0, j >= 0, i < width, j < grid.height else { return .nan }
                return values[j * width + i]
            }
            if let shift = Registration.offset(
                reference: { at(fixed, $0, $1) }, moving: { at(moving, $0, $1) }, columns: 0..<width, rows: 0..<grid.height,
                iterations: 20) {
                measured.append(("\(band.name)/\(reference.name)", shift.dx, shift.dy))
            }
        }
        return measured
    }

    /// The local contrast of an image: each value standardised by the mean and deviation of its
    /// (2·radius + 1)² neighbourhood (NaN where the neighbourhood is not whole). Bands differ in
    /// colour from one terrain unit to the next, which shifts a registration of raw values towards
    /// the units' edges; the local contrast keeps the texture the bands share.
    static func localContrast(_ values: [Float], width: Int, height: Int, radius: Int = 4) -> [Float] {
        let w = width + 1
        var sum = [Double](repeating: 0, count: w * (height + 1)), squares = sum, bad = [Int](repeating: 0, count: w * (height + 1))
        for j in 0..<height {
            var rowSum = 0.0, rowSquares = 0.0, rowBad = 0
            for i in 0..<width {
                let v = values[j * width + i]
                if v.isFinite { rowSum += Double(v); rowSquares += Double(v) * Double(v) } else { rowBad += 1 }
                let k = (j + 1) * w + i + 1
                sum[k] = sum[k - w] + rowSum
                squares[k] = squares[k - w] + rowSquares
                bad[k] = bad[k - w] + rowBad
            }
        }
        var result = [Float](repeating: .nan, count: values.count)
        let n = Double((2 * radius + 1) * (2 * radius + 1))
        for j in radius..<max(radius, height - radius) {
            for i in radius..<max(radius, width - radius) {
                let (a, b, c, d) = ((j - radius) * w + i - radius, (j - radius) * w + i + radius + 1, (j + radius + 1) * w + i - radius, (j + radius + 1) * w + i + radius + 1)
                guard bad[d] - bad[b] - bad[c] + bad[a] == 0 else { continue }
                let mean = (sum[d] - sum[b] - sum[c] + sum[a]) / n
                let variance = (squares[d] - squares[b] - squares[c] + squares[a]) / n - mean * mean
                guard variance > 0 else { continue }
                result[j * width + i] = Float((Double(values[j * width + i]) - mean) / variance.squareRoot())
            }
        }
        return result
    }

    /// Coarse search, then Gauss–Newton on the misregistration vectors.
    func mechanismOffset(calibrated: [FrameletReference: CalibratedFramelet], window: MapGrid) throws -> MechanismEstimate {
        func cost(_ m: [(String, Double, Double)]) -> Double { m.reduce(0) { $0 + $1.1 * $1.1 + $1.2 * $1.2 } }
        func rms(_ m: [(String, Double, Double)]) -> Double? { m.isEmpty ? nil : (cost(m) / Double(m.count)).squareRoot() }
        let before = misregistration(delta: 0, calibrated: calibrated, grid: window)
        var estimate = MechanismEstimate(
            offsetDegrees: 0, uncertaintyDegrees: nil, fringingBefore: rms(before), fringingAfter: rms(before),
            measured: before.map(\.0), search: [], scale: window.scale, reason: nil)
        guard !before.isEmpty else {
            estimate.reason = "no band or framelet overlap could be registered"
            return estimate
        }
        // Coarse: at a quarter of the resolution over the search range.
        let coarse = Self.coarser(window, by: 4)
        let steps = Int((Self.searchHalfWidthDegrees / Self.searchStepDegrees).rounded())
        var best = (delta: 0.0, cost: Double.infinity)
        for k in -steps...steps {
            try Task.checkCancellation()
            let delta = Double(k) * Self.searchStepDegrees
            let measured = misregistration(delta: delta, calibrated: calibrated, grid: coarse)
            // Only measurements made at every step are comparable.
            guard !measured.isEmpty else { continue }
            let value = cost(measured) * 16 / Double(measured.count)  // in full-resolution pixels², per measurement
            estimate.search.append([delta, value])
            if value < best.cost { best = (delta, value) }
        }
        // Fine: Gauss–Newton at full resolution from the coarse minimum, with the shifts'
        // derivative from the geometry (how far each band's ground moves per degree).
        let jacobian = misregistrationDerivative(references: Array(calibrated.keys), grid: window, labels: before.map(\.0))
        let normal = jacobian.values.reduce(0) { $0 + $1.0 * $1.0 + $1.1 * $1.1 }
        guard normal > 0 else {
            estimate.reason = "the misregistration measured does not depend on the offset"
            return estimate
        }
        var delta = best.delta
        var current = delta == 0 ? before : misregistration(delta: delta, calibrated: calibrated, grid: window)
        for _ in 0..<3 {
            try Task.checkCancellation()
            let gradient = current.reduce(0.0) { sum, m in
                guard let j = jacobian[m.0] else { return sum }
                return sum + j.0 * m.1 + j.1 * m.2
            }
            let step = max(-Self.searchStepDegrees, min(Self.searchStepDegrees, -gradient / normal))
            delta += step
            current = misregistration(delta: delta, calibrated: calibrated, grid: window)
            if abs(step) < 0.002 { break }
        }
        let used = current.filter { jacobian[$0.0] != nil }
        guard !used.isEmpty, abs(delta) <= Self.searchHalfWidthDegrees + Self.searchStepDegrees else {
            estimate.reason = "the fit left the search range (no texture where the bands overlap?)"
            return estimate
        }
        let degreesOfFreedom = max(1, 2 * used.count - 1)
        estimate.offsetDegrees = delta
        estimate.uncertaintyDegrees = (cost(used) / Double(degreesOfFreedom)).squareRoot() / normal.squareRoot()
        estimate.fringingAfter = rms(current)
        return estimate
    }

    /// How each measured misregistration changes per degree of offset, from the geometry alone:
    /// the ground seen by a band's samples moves on the grid as θ turns, and a band's shift
    /// against the reference is the difference of their motions (pixels per degree).
    func misregistrationDerivative(references: [FrameletReference], grid: MapGrid, labels: [String]) -> [String: (Double, Double)] {
        let h = 0.01
        func motion(_ reference: FrameletReference) -> (Double, Double)? {
            let at = { (delta: Double) -> FrameletCamera in
                self.with(ObservationCorrections(mechanismOffsetDegrees: delta)).camera(for: reference)
            }
            let (minus, plus) = (at(-h), at(h))
            var sum = (0.0, 0.0), count = 0
            for k in 0..<5 {
                let (c, r) = (Double(minus.samples - 1) * (0.1 + 0.2 * Double(k)), Double(minus.lines - 1) / 2)
                guard let a = minus.view(sample: c, line: r), let b = plus.view(sample: c, line: r) else { continue }
                let (xa, ya) = grid.projection.forward(latitude: a.coordinates.latitude, longitude: a.coordinates.longitude)
                let (xb, yb) = grid.projection.forward(latitude: b.coordinates.latitude, longitude: b.coordinates.longitude)
                let (pa, pb) = (grid.pixel(x: xa, y: ya), grid.pixel(x: xb, y: yb))
                sum = (sum.0 + (pb.0 - pa.0) / (2 * h), sum.1 + (pb.1 - pa.1) / (2 * h))
                count += 1
            }
            return count > 0 ? (sum.0 / Double(count), sum.1 / Double(count)) : nil
        }
        var byBand: [Band: (Double, Double, Int)] = [:]
        var byFramelet: [String: (Double, Double)] = [:]
        for reference in references {
            guard let band = reference.header.band, let m = motion(reference) else { continue }
            let old = byBand[band] ?? (0, 0, 0)
            byBand[band] = (old.0 + m.0, old.1 + m.1, old.2 + 1)
            byFramelet["\(band.name) \(reference.header.frameletIndex)"] = m
        }
        var result: [String: (Double, Double)] = [:]
        for label in labels {
            if let slash = label.firstIndex(of: "/"), !label.contains(" ") {
                // "RED/PAN": band against band.
                guard let moving = Band(name: String(label[..<slash])), let fixed = Band(name: String(label[label.index(after: slash)...])),
                      let m = byBand[moving], let f = byBand[fixed] else { continue }
                result[label] = (m.0 / Double(m.2) - f.0 / Double(f.2), m.1 / Double(m.2) - f.1 / Double(f.2))
            } else {
                // "PAN 3/4": framelet 4 against framelet 3.
                let parts = label.split(separator: " ")
                guard parts.count == 2 else { continue }
                let indices = parts[1].split(separator: "/")
                guard indices.count == 2, let a = byFramelet["\(parts[0]) \(indices[0])"], let b = byFramelet["\(parts[0]) \(indices[1])"] else { continue }
                result[label] = (b.0 - a.0, b.1 - a.1)
            }
        }
        return result
    }

    // MARK: Straylight

    /// Consecutive framelets of one band at least one of which is exposed, at most
    /// ``straylightPairsPerBand`` per band spread over the observation.
    static func straylightPairs(_ framelets: [FrameletReference], exposed: [FrameletReference: Double]) -> [(FrameletReference, FrameletReference)] {
        guard !exposed.isEmpty else { return [] }
        var pairs: [(FrameletReference, FrameletReference)] = []
        for (_, references) in Dictionary(grouping: framelets, by: { $0.header.band! }).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let sorted = references.sorted { $0.header.frameletIndex < $1.header.frameletIndex }
            let candidates = zip(sorted, sorted.dropFirst()).filter { a, b in
                b.header.frameletIndex == a.header.frameletIndex + 1 && (exposed[a] != nil || exposed[b] != nil)
            }
            let stride = max(1, (candidates.count + straylightPairsPerBand - 1) / straylightPairsPerBand)
            for k in Swift.stride(from: 0, to: candidates.count, by: stride) { pairs.append(candidates[k]) }
        }
        return pairs
    }

    /// ε by least squares over ground points two overlapping framelets both see.
    func straylightEpsilon(
        pairs: [(FrameletReference, FrameletReference)], calibrated: [FrameletReference: CalibratedFramelet], exposure: [FrameletReference: Double]
    ) -> StraylightEstimate {
        var estimate = StraylightEstimate(epsilon: nil, uncertainty: nil, exposedFramelets: exposure.count, amplitude: 0, removedFraction: 0, points: 0, reason: nil)
        guard !exposure.isEmpty else {
            estimate.reason = "no framelet is exposed: α is outside every straylight amplitude table"
            return estimate
        }
        // Per pair, the ground seen by framelet a is found in framelet b exactly at nodes every
        // cell (16 samples by 2 lines: consecutive framelets overlap by a few lines) (ray to the
        // terrain, back into b) and bilinearly between them; the differences are averaged over each
        // cell, which leaves the smooth straylight and averages the texture's resampling error away.
        let cellColumns = 16, cellRows = 2
        // One pair's cell differences (pairs in parallel).
        @Sendable func cells(_ a: FrameletReference, _ b: FrameletReference) -> [(dI: Double, du: Double)] {
            guard let first = calibrated[a], let second = calibrated[b] else { return [] }
            let ca = camera(for: a), cb = camera(for: b)
            let amplitudeA = exposure[a] ?? 0, amplitudeB = exposure[b] ?? 0
            let nodeColumns = (first.samples - 1) / cellColumns + 1, nodeRows = (first.lines - 1) / cellRows + 1
            var nodes = [(Double, Double)?](repeating: nil, count: nodeColumns * nodeRows)
            for nj in 0..<nodeRows {
                // Rows of a whose ground b does not see (most: the framelets overlap by a few lines) are skipped.
                let middle = ca.ground(sample: Double(first.samples) / 2, line: Double(nj * cellRows)).flatMap { cb.sampleCoordinates(of: $0) }
                guard let middle, middle.line > -Double(cellRows + 2), middle.line < Double(second.lines + cellRows + 2) else { continue }
                for ni in 0..<nodeColumns {
                    if let seen = ca.ground(sample: Double(ni * cellColumns), line: Double(nj * cellRows)) {
                        nodes[nj * nodeColumns + ni] = cb.sampleCoordinates(of: seen)
                    }
                }
            }
            var found: [(dI: Double, du: Double)] = []
            for nj in 0..<(nodeRows - 1) {
                for ni in 0..<(nodeColumns - 1) {
                    guard let n00 = nodes[nj * nodeColumns + ni], let n01 = nodes[nj * nodeColumns + ni + 1],
                          let n10 = nodes[(nj + 1) * nodeColumns + ni], let n11 = nodes[(nj + 1) * nodeColumns + ni + 1] else { continue }
                    var sumI = 0.0, sumU = 0.0, count = 0
                    for dr in 0..<cellRows {
                        for dc in 0..<cellColumns {
                            let r = nj * cellRows + dr, c = ni * cellColumns + dc
                            let index = r * first.samples + c
                            guard first.flags[index].isEmpty, first.iof[index].isFinite else { continue }
                            let tx = Double(dc) / Double(cellColumns), ty = Double(dr) / Double(cellRows)
                            let c2 = (n00.0 * (1 - tx) + n01.0 * tx) * (1 - ty) + (n10.0 * (1 - tx) + n11.0 * tx) * ty
                            let r2 = (n00.1 * (1 - tx) + n01.1 * tx) * (1 - ty) + (n10.1 * (1 - tx) + n11.1 * tx) * ty
                            guard let other = second.bilinear(c2, r2) else { continue }
                            let uA = Double(first.straylightIoF?[index] ?? 0) * amplitudeA
                            let uB = (second.bilinearStraylight(c2, r2) ?? 0) * amplitudeB
                            sumI += Double(first.iof[index]) - other
                            sumU += uA - uB
                            count += 1
                        }
                    }
                    if count >= cellColumns * cellRows / 2 { found.append((sumI / Double(count), sumU / Double(count))) }
                }
            }
            return found
        }
        let perPair = Mutex([[(dI: Double, du: Double)]](repeating: [], count: pairs.count))
        ComputeThreads.shared.perform(iterations: pairs.count) { k in
            let found = cells(pairs[k].0, pairs[k].1)
            perPair.withLock { $0[k] = found }
        }
        let differences = perPair.withLock { $0.flatMap { $0 } }
        // Robust least squares: ΔI = ε·Δu, points beyond 3 robust σ rejected, three times.
        var kept = differences
        var epsilon = 0.0, sigma = Double.infinity
        for _ in 0..<4 {
            let sxx = kept.reduce(0) { $0 + $1.du * $1.du }, sxy = kept.reduce(0) { $0 + $1.du * $1.dI }
            guard sxx > 0 else { break }
            epsilon = sxy / sxx
            let residuals = differences.map { abs($0.dI - epsilon * $0.du) }.sorted()
            sigma = 1.4826 * residuals[residuals.count / 2]
            let limit = 3 * max(sigma, 1e-9)
            kept = differences.filter { abs($0.dI - epsilon * $0.du) <= limit }
        }
        let sxx = kept.reduce(0) { $0 + $1.du * $1.du }
        guard kept.count >= 20, sxx > 0 else {
            estimate.reason = "too few ground points seen by two overlapping exposed framelets (\(kept.count))"
            return estimate
        }
        estimate.epsilon = epsilon
        estimate.uncertainty = sigma / sxx.squareRoot()
        estimate.points = kept.count
        return estimate
    }
}

extension CalibratedFramelet {
    /// I/F at continuous sample coordinates (centres at integers), bilinear; nil off the framelet
    /// or where a neighbour has no valid value.
    func bilinear(_ c: Double, _ r: Double) -> Double? { Self.bilinear(iof, lines: lines, samples: samples, c, r, flags: flags) }

    /// The straylight removed per unit amplitude at continuous sample coordinates.
    func bilinearStraylight(_ c: Double, _ r: Double) -> Double? {
        straylightIoF.flatMap { Self.bilinear($0, lines: lines, samples: samples, c, r, flags: nil) }
    }

    private static func bilinear(_ values: [Float], lines: Int, samples: Int, _ c: Double, _ r: Double, flags: [Flags]?) -> Double? {
        guard c >= 0, r >= 0, c <= Double(samples - 1), r <= Double(lines - 1), samples > 1, lines > 1 else { return nil }
        let c0 = min(Int(c), samples - 2), r0 = min(Int(r), lines - 2)
        let tx = c - Double(c0), ty = r - Double(r0)
        let k = r0 * samples + c0
        if let flags, !(flags[k].isEmpty && flags[k + 1].isEmpty && flags[k + samples].isEmpty && flags[k + samples + 1].isEmpty) { return nil }
        let v = (Double(values[k]) * (1 - tx) + Double(values[k + 1]) * tx) * (1 - ty)
            + (Double(values[k + samples]) * (1 - tx) + Double(values[k + samples + 1]) * tx) * ty
        return v.isFinite ? v : nil
    }
}
