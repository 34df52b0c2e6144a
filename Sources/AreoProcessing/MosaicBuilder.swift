import AreoCompute
import Foundation
import AreoGeometry
import AreoRadiometry

/// Projects calibrated framelets of one band onto a map grid by inverse mapping and blends them
/// where they overlap. Framelets are added one at a time, so memory holds the output and one
/// framelet, whatever the observation's length.
///
/// For every output pixel the framelet sample that sees it is found by going backwards: map
/// (x, y) → latitude/longitude → surface point on the ellipsoid → camera at the framelet's
/// mid-time → detector → sample (c, r). The exact mapping is evaluated on nodes every
/// ``nodeSpacing`` pixels and interpolated bilinearly between them (as GDAL's approximate
/// transformer does); cells whose corners do not all see the framelet are computed exactly.
/// Values are resampled bilinearly; the saturation mask takes the nearest sample. In overlaps,
/// each framelet is weighted by its distance (in lines) from its own leading and trailing edge,
/// so seams feather out.
public struct MosaicBuilder: Sendable {
    public let grid: MapGrid
    public var nodeSpacing = 16
    /// Output columns resampled as one block, row after row (see ``add(_:camera:)``).
    static let blockColumns = 256
    private var sum: [Float]
    private var weight: [Float]
    private var saturated: [Bool]

    public init(grid: MapGrid) {
        self.init(grid: grid, scratch: nil)
    }

    /// A builder reusing the arrays of an earlier one (`scratch`), cleared: a composite's bands
    /// then share one set of grid-sized buffers instead of faulting in fresh memory for each.
    public init(grid: MapGrid, scratch: consuming MosaicScratch?) {
        self.grid = grid
        let count = grid.width * grid.height
        if var scratch = scratch.take(), scratch.sum.count == count, scratch.weight.count == count, scratch.saturated.count == count {
            scratch.sum.withUnsafeMutableBufferPointer { sum in
            scratch.weight.withUnsafeMutableBufferPointer { weight in
            scratch.saturated.withUnsafeMutableBufferPointer { saturated in
                nonisolated(unsafe) let (sum, weight, saturated) = (sum, weight, saturated)
                ParallelChunks.forEach(count) { range in
                    UnsafeMutableBufferPointer(rebasing: sum[range]).update(repeating: 0)
                    UnsafeMutableBufferPointer(rebasing: weight[range]).update(repeating: 0)
                    UnsafeMutableBufferPointer(rebasing: saturated[range]).update(repeating: false)
                }
            }
            }
            }
            sum = []
            weight = []
            saturated = []
            swap(&sum, &scratch.sum)
            swap(&weight, &scratch.weight)
            swap(&saturated, &scratch.saturated)
        } else {
            // Fresh memory: its pages are faulted in on every core at once.
            func zeroed<T: BitwiseCopyable & Sendable>(_ zero: T) -> [T] {
                LargeBuffers.array(count: count) { (buffer: UnsafeMutableBufferPointer<T>) in
                    nonisolated(unsafe) let buffer = buffer
                    ParallelChunks.forEach(count) { UnsafeMutableBufferPointer(rebasing: buffer[$0]).initialize(repeating: zero) }
                }
            }
            sum = zeroed(Float(0))
            weight = zeroed(Float(0))
            saturated = zeroed(false)
        }
    }

    /// The framelet's outline in continuous grid pixel coordinates, in order (nil where an
    /// outline point misses Mars).
    func pixelOutline(of camera: FrameletCamera) -> [(Double, Double)?] {
        Self.pixelOutline(of: camera, on: grid)
    }

    static func pixelOutline(of camera: FrameletCamera, on grid: MapGrid) -> [(Double, Double)?] {
        Footprint.orderedOutline(camera).map { point in
            guard let view = camera.view(sample: point.0, line: point.1) else { return nil }
            let (x, y) = grid.projection.forward(latitude: view.coordinates.latitude, longitude: view.coordinates.longitude)
            return grid.pixel(x: x, y: y)
        }
    }

    /// The framelet's footprint as a pixel box on the grid (clipped), or nil when it misses it.
    public func pixelBox(of camera: FrameletCamera) -> (columns: Range<Int>, rows: Range<Int>)? {
        pixelBox(outline: pixelOutline(of: camera))
    }

    /// Whether the framelet seen by `camera` meets `grid` (without making a builder).
    public static func meets(_ camera: FrameletCamera, grid: MapGrid) -> Bool {
        pixelBox(outline: pixelOutline(of: camera, on: grid), grid: grid) != nil
    }

    func pixelBox(outline: [(Double, Double)?]) -> (columns: Range<Int>, rows: Range<Int>)? {
        Self.pixelBox(outline: outline, grid: grid)
    }

    static func pixelBox(outline: [(Double, Double)?], grid: MapGrid) -> (columns: Range<Int>, rows: Range<Int>)? {
        var minC = Double.infinity, maxC = -Double.infinity, minR = Double.infinity, maxR = -Double.infinity
        for case let (pc, pr)? in outline {
            (minC, maxC, minR, maxR) = (min(minC, pc), max(maxC, pc), min(minR, pr), max(maxR, pr))
        }
        guard minC.isFinite else { return nil }
        let c0 = max(0, Int((minC - 1).rounded(.down))), c1 = min(grid.width, Int((maxC + 2).rounded(.up)))
        let r0 = max(0, Int((minR - 1).rounded(.down))), r1 = min(grid.height, Int((maxR + 2).rounded(.up)))
        guard c0 < c1, r0 < r1 else { return nil }
        return (c0..<c1, r0..<r1)
    }

    /// The exact sample coordinates that see pixel (i, j).
    @inline(__always) func exactSample(_ camera: FrameletCamera, _ i: Int, _ j: Int) -> (sample: Double, line: Double)? {
        Self.exactSample(grid, camera, i, j)
    }

    @inline(__always) static func exactSample(_ grid: MapGrid, _ camera: FrameletCamera, _ i: Int, _ j: Int) -> (sample: Double, line: Double)? {
        let (x, y) = grid.center(column: i, row: j)
        let (lat, lon) = grid.projection.inverse(x: x, y: y)
        return camera.sampleCoordinates(of: camera.surfacePoint(latitude: lat, longitude: lon))
    }

    /// Resamples `framelet` into the grid and blends it in; returns the framelet's own resampled
    /// raster (for measuring its registration against its neighbours).
    @discardableResult
    public mutating func add(_ framelet: CalibratedFramelet, camera: FrameletCamera) -> ProjectedFramelet? {
        // The outline on the grid bounds the work twice over: its box, and per row its span.
        let outline = pixelOutline(of: camera)
        guard let box = pixelBox(outline: outline) else { return nil }
        var own = ProjectedFramelet(columns: box.columns, rows: box.rows)
        let lines = framelet.lines, samples = framelet.samples
        let step = nodeSpacing
        let nodeColumns = (box.columns.count + step - 1) / step + 1, nodeRows = (box.rows.count + step - 1) / step + 1
        var nodes = [(sample: Double, line: Double)?](repeating: nil, count: nodeColumns * nodeRows)
        // Each row is scanned only where the outline crosses it (rows `lo…hi`: the union of their spans).
        let polygon = outline.contains { $0 == nil } ? [] : outline.map { $0! }
        let columnsOfRows: @Sendable (Int, Int) -> Range<Int> = { (lo: Int, hi: Int) -> Range<Int> in
            guard !polygon.isEmpty else { return box.columns }
            let (yLow, yHigh) = (Double(lo), Double(hi))
            var low = Double.infinity, high = -Double.infinity
            for k in polygon.indices {
                let p = polygon[k], q = polygon[(k + 1) % polygon.count]
                if p.1 >= yLow - 1, p.1 <= yHigh + 1 { (low, high) = (min(low, p.0), max(high, p.0)) }
                guard p.1 != q.1 else { continue }
                if (p.1 - yLow) * (q.1 - yLow) <= 0 {
                    let x = p.0 + (yLow - p.1) * (q.0 - p.0) / (q.1 - p.1)
                    (low, high) = (min(low, x), max(high, x))
                }
                if hi != lo, (p.1 - yHigh) * (q.1 - yHigh) <= 0 {
                    let x = p.0 + (yHigh - p.1) * (q.0 - p.0) / (q.1 - p.1)
                    (low, high) = (min(low, x), max(high, x))
                }
            }
            guard low.isFinite else { return box.columns.lowerBound..<box.columns.lowerBound }
            let from = max(box.columns.lowerBound, Int((low - 2).rounded(.down))), to = min(box.columns.upperBound, Int((high + 3).rounded(.up)))
            return from < to ? from..<to : box.columns.lowerBound..<box.columns.lowerBound
        }
        // The exact mapping at the nodes of the cells the rows' spans reach (a tilted framelet's
        // box is mostly outside it), rows of nodes in parallel (on terrain they are dense). On a
        // separable projection a node row shares its latitude and a node column its longitude,
        // so the trigonometry is done once per row and column.
        let (grid0, c0, r0) = (grid, box.columns.lowerBound, box.rows.lowerBound)
        let separable = grid.projection.isSeparable
        let nodeLongitudes: [(longitude: Double, cos: Double, sin: Double)] = separable ? (0..<nodeColumns).map { ni in
            let (x, y) = grid0.center(column: c0 + ni * step, row: r0)
            let longitude = grid0.projection.inverse(x: x, y: y).longitude, lambda = longitude * .pi / 180
            return (longitude, cos(lambda), sin(lambda))
        } : []
        nodes.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            let chunks = min(nodeRows, 4 * (ComputeThreads.shared.threadCount + 1))
            ComputeThreads.shared.perform(iterations: chunks) { chunk in
                for nj in (nodeRows * chunk / chunks)..<(nodeRows * (chunk + 1) / chunks) {
                    // The cells above and below this node row: the columns their pixel rows scan.
                    let rowLow = max(r0, r0 + (nj - 1) * step), rowHigh = min(box.rows.upperBound - 1, r0 + (nj + 1) * step)
                    let span = rowLow <= rowHigh ? columnsOfRows(rowLow, rowHigh) : box.columns.lowerBound..<box.columns.lowerBound
                    guard !span.isEmpty else { continue }
                    let first = max(0, (span.lowerBound - c0) / step - 1), last = min(nodeColumns - 1, (span.upperBound - 1 - c0) / step + 2)
                    guard first <= last else { continue }
                    if separable {
                        let (x, y) = grid0.center(column: c0, row: r0 + nj * step)
                        let latitude = grid0.projection.inverse(x: x, y: y).latitude, phi = latitude * .pi / 180
                        let (cosPhi, sinPhi) = (cos(phi), sin(phi))
                        for ni in first...last {
                            let lon = nodeLongitudes[ni]
                            let direction = Vector3(cosPhi * lon.cos, cosPhi * lon.sin, sinPhi)
                            buffer[nj * nodeColumns + ni] = camera.sampleCoordinates(
                                of: camera.surfacePoint(latitude: latitude, longitude: lon.longitude, direction: direction))
                        }
                    } else {
                        for ni in first...last {
                            buffer[nj * nodeColumns + ni] = Self.exactSample(grid0, camera, c0 + ni * step, r0 + nj * step)
                        }
                    }
                }
            }
        }
        let width = grid.width
        let nodesCopy = nodes, grid = self.grid
        // Rows in parallel (each strip writes only its own output rows): several strips per core,
        // since a tilted framelet's rows differ in length and a core that finishes early takes
        // the next strip.
        let strips = min(4 * (ComputeThreads.shared.threadCount + 1), max(1, box.rows.count / 32))
        let boxWidth = box.columns.count
        let columnsOfRow: @Sendable (Int) -> Range<Int> = { columnsOfRows($0, $0) }
        let anySaturated = framelet.flags.contains { $0.contains(.saturated) }
        framelet.iof.withUnsafeBufferPointer { iof in
        framelet.flags.withUnsafeBufferPointer { flags in
        sum.withUnsafeMutableBufferPointer { sum in
        weight.withUnsafeMutableBufferPointer { weight in
        saturated.withUnsafeMutableBufferPointer { saturated in
        own.values.withUnsafeMutableBufferPointer { ownValues in
            nonisolated(unsafe) let (sum, weight, saturated, ownValues, iof, flags) = (sum, weight, saturated, ownValues, iof, flags)
            ComputeThreads.shared.perform(iterations: strips) { strip in
                let rows = (box.rows.lowerBound + box.rows.count * strip / strips)..<(box.rows.lowerBound + box.rows.count * (strip + 1) / strips)
                let lastSample = Double(samples) - 0.5, lastLine = Double(lines) - 0.5
                let maxC0 = max(0, samples - 2), maxR0 = max(0, lines - 2)
                // One output pixel seen at sample (c, r): bilinear over the four nearest sample
                // centres (clamped at the edges), blended with its feathering weight.
                @inline(__always) func resample(_ i: Int, _ j: Int, _ c: Double, _ r: Double) {
                    guard c >= -0.5, r >= -0.5, c <= lastSample, r <= lastLine else { return }
                    let cc = min(max(c, 0), Double(samples - 1)), rr = min(max(r, 0), Double(lines - 1))
                    let c0 = min(Int(cc), maxC0), r0 = min(Int(rr), maxR0)
                    let c1 = min(c0 + 1, samples - 1), r1 = min(r0 + 1, lines - 1)
                    let tx = Float(cc - Double(c0)), ty = Float(rr - Double(r0))
                    let i00 = r0 * samples + c0, i01 = r0 * samples + c1, i10 = r1 * samples + c0, i11 = r1 * samples + c1
                    // A missing sample among the four is NaN (CalibratedFramelet.iof), and so is the value.
                    let value = (iof[i00] * (1 - tx) + iof[i01] * tx) * (1 - ty) + (iof[i10] * (1 - tx) + iof[i11] * tx) * ty
                    guard !value.isNaN else { return }
                    let w = Float(max(0.01, min(r + 0.5, lastLine - r)))
                    let o = j * width + i
                    ownValues[(j - box.rows.lowerBound) * boxWidth + i - box.columns.lowerBound] = value
                    sum[o] += w * value
                    weight[o] += w
                    if anySaturated, flags[Int(rr + 0.5) * samples + Int(cc + 0.5)].contains(.saturated) { saturated[o] = true }
                }
                // The strip in blocks of columns, each block's rows in turn: the framelet samples a
                // block reads (a tilted framelet's row crosses all its lines) stay in the cache
                // from one row to the next.
                let spans = rows.map(columnsOfRow)
                let stripColumns = spans.reduce(Int.max) { min($0, $1.lowerBound) }..<spans.reduce(Int.min) { max($0, $1.upperBound) }
                guard !stripColumns.isEmpty else { return }
                for blockStart in Swift.stride(from: stripColumns.lowerBound, to: stripColumns.upperBound, by: Self.blockColumns) {
                    let blockEnd = min(stripColumns.upperBound, blockStart + Self.blockColumns)
                    for (row, j) in rows.enumerated() {
                        let nj = (j - box.rows.lowerBound) / step, fy = Double((j - box.rows.lowerBound) % step) / Double(step)
                        let spanEnd = min(spans[row].upperBound, blockEnd)
                        var i = max(spans[row].lowerBound, blockStart)
                        while i < spanEnd {
                            // Within one node cell the mapping is linear along the row: step through it.
                            let ni = (i - box.columns.lowerBound) / step
                            let cellStart = box.columns.lowerBound + ni * step, cellEnd = min(spanEnd, cellStart + step)
                            if let a = nodesCopy[nj * nodeColumns + ni], let b = nodesCopy[nj * nodeColumns + ni + 1],
                               let c = nodesCopy[(nj + 1) * nodeColumns + ni], let d = nodesCopy[(nj + 1) * nodeColumns + ni + 1] {
                                let left = (a.sample + (c.sample - a.sample) * fy, a.line + (c.line - a.line) * fy)
                                let right = (b.sample + (d.sample - b.sample) * fy, b.line + (d.line - b.line) * fy)
                                let ds = (right.0 - left.0) / Double(step), dl = (right.1 - left.1) / Double(step)
                                var sample = left.0 + ds * Double(i - cellStart), line = left.1 + dl * Double(i - cellStart)
                                for ii in i..<cellEnd {
                                    resample(ii, j, sample, line)
                                    sample += ds
                                    line += dl
                                }
                            } else {
                                for ii in i..<cellEnd {
                                    if let (sample, line) = Self.exactSample(grid, camera, ii, j) { resample(ii, j, sample, line) }
                                }
                            }
                            i = cellEnd
                        }
                    }
                }
            }
        }
        }
        }
        }
        }
        }
        return own
    }

    /// The blended mosaic. Hands over the builder's own arrays (no copy of the output); the
    /// builder is empty afterwards.
    public mutating func finish() -> BandMosaic {
        var iof: [Float] = []
        swap(&iof, &sum)
        var mask: [Bool] = []
        swap(&mask, &saturated)
        let counts = iof.withUnsafeMutableBufferPointer { values in
            weight.withUnsafeBufferPointer { weights in
                mask.withUnsafeBufferPointer { mask in
                    nonisolated(unsafe) let (values, weights, mask) = (values, weights, mask)
                    return ParallelChunks.map(values.count) { range in
                        var covered = 0, saturated = 0
                        for k in range {
                            if weights[k] > 0 {
                                values[k] /= weights[k]
                                covered += 1
                                if mask[k] { saturated += 1 }
                            } else {
                                values[k] = .nan
                            }
                        }
                        return (covered, saturated)
                    }
                }
            }
        }
        let covered = counts.reduce(0) { $0 + $1.0 }, saturatedCount = counts.reduce(0) { $0 + $1.1 }
        var spare: [Float] = []
        swap(&spare, &weight)
        return BandMosaic(grid: grid, iof: iof, saturated: mask, coveredPixels: covered, saturatedPixels: saturatedCount, spareWeight: spare)
    }
}

/// Grid-sized buffers handed from one mosaic to the next.
public struct MosaicScratch: Sendable {
    var sum: [Float]
    var weight: [Float]
    var saturated: [Bool]
}

/// One framelet resampled onto a window of the grid (NaN where it does not reach).
public struct ProjectedFramelet: Sendable {
    public let columns: Range<Int>
    public let rows: Range<Int>
    public var values: [Float]

    init(columns: Range<Int>, rows: Range<Int>) {
        self.columns = columns
        self.rows = rows
        values = [Float](repeating: .nan, count: columns.count * rows.count)
    }

    /// The value at grid pixel (i, j), NaN outside.
    public subscript(i: Int, j: Int) -> Float {
        guard columns.contains(i), rows.contains(j) else { return .nan }
        return values[(j - rows.lowerBound) * columns.count + i - columns.lowerBound]
    }

    /// The offset that maps this framelet onto `reference` where their windows overlap
    /// (``Registration/offset(reference:moving:columns:rows:minimumPixels:iterations:normalize:maximumPixels:)``);
    /// nil without overlap or texture.
    public func offset(onto reference: ProjectedFramelet, iterations: Int = 10, maximumPixels: Int = Registration.maximumPixels) -> (dx: Double, dy: Double, pixels: Int)? {
        let columns = max(columns.lowerBound, reference.columns.lowerBound)..<min(columns.upperBound, reference.columns.upperBound)
        let rows = max(rows.lowerBound, reference.rows.lowerBound)..<min(rows.upperBound, reference.rows.upperBound)
        guard !columns.isEmpty, !rows.isEmpty else { return nil }
        return Registration.offset(
            reference: { reference[$0, $1] }, moving: { self[$0, $1] }, columns: columns, rows: rows, iterations: iterations, maximumPixels: maximumPixels)
    }
}

/// Footprints of framelets and observations.
public enum Footprint {
    /// Sample positions around a framelet's outline, in order (a closed polygon).
    public static func orderedOutline(_ camera: FrameletCamera, pointsPerSide n: Int = 16) -> [(Double, Double)] {
        let c0 = -0.5, r0 = -0.5, c1 = Double(camera.samples) - 0.5, r1 = Double(camera.lines) - 0.5
        var points: [(Double, Double)] = []
        for k in 0..<n { points.append((c0 + (c1 - c0) * Double(k) / Double(n), r0)) }
        for k in 0..<n { points.append((c1, r0 + (r1 - r0) * Double(k) / Double(n))) }
        for k in 0..<n { points.append((c1 - (c1 - c0) * Double(k) / Double(n), r1)) }
        for k in 0..<n { points.append((c0, r1 - (r1 - r0) * Double(k) / Double(n))) }
        return points
    }

    /// The framelet's outline as latitude/longitude points, counter-clockwise seen from above
    /// when the camera's rows and columns form a right-handed pair with the boresight.
    public static func outline(_ camera: FrameletCamera) -> [PlanetocentricCoordinates] {
        let c1 = Double(camera.samples) - 0.5, r1 = Double(camera.lines) - 0.5
        let corners = [(-0.5, -0.5), (c1, -0.5), (c1, r1), (-0.5, r1)]
        return corners.compactMap { camera.view(sample: $0.0, line: $0.1)?.coordinates }
    }
}
