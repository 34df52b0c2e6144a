import AreoGeometry
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulated planet's relief (`--terrain`): heights in metres above the ellipsoid of ICD §7,
/// deterministic per seed — broad rolling ground, scarps (steep steps of up to 1.6 km along great
/// circles) and craters (bowls with raised rims) at two sizes, clipped to ±3 km. Defined on the
/// body-fixed direction, so it has no seams. The shape models written from it (ICD §11) are the
/// surface the simulated camera sees: the finest with data at a point, bilinear between pixel
/// centres, exactly as the ICD says an archive must read them.
public struct TruthRelief: Sendable {
    let planet: TruthPlanet
    /// A place given strong relief of its own: a plateau 1.4 km high and 80 km across, a 1.5 km
    /// scarp through it and a crater 6 km across and 1.2 km deep beside it (the fine shape model's
    /// observation: 10° off nadir, 1 km of relief moves the ground by 176 m).
    public let focus: PlanetocentricCoordinates?

    public init(seed: UInt64, focus: PlanetocentricCoordinates? = nil) {
        planet = TruthPlanet(seed: seed ^ 0x5EED_7E44)
        self.focus = focus
    }

    /// Height above the ellipsoid at (`latitude`, `longitude`), metres.
    public func height(latitude: Double, longitude: Double) -> Double {
        let p = Ellipsoid.mars.surfacePoint(latitude: latitude, longitude: longitude)
        // Rolling ground: ±1.2 km over hundreds of km, ±300 m over tens.
        var h = 2400 * (planet.noise(p, 300, 101) - 0.5) + 600 * (planet.noise(p, 40, 102) - 0.5) + 120 * (planet.noise(p, 6, 103) - 0.5)
        // Scarps: smooth steps (about 60° at their steepest) across three great circles.
        for (k, axis) in [Vector3(0.31, 0.77, 0.56), Vector3(-0.62, 0.2, 0.76), Vector3(0.7, -0.65, 0.3)].enumerated() {
            let side = p.normalized.dot(axis.normalized) * Ellipsoid.mars.equatorialRadius  // km from the circle
            h += (Double(k) + 1) * 400 * tanh(side / 0.9)
        }
        h += crater(p, cell: 12, depth: 900) + crater(p, cell: 2.5, depth: 220)
        if let focus {
            let f = Ellipsoid.mars.surfacePoint(latitude: focus.latitude, longitude: focus.longitude)
            let axis = f.cross(Vector3(0, 0, 1)).normalized
            let away = (p - f).length
            h += 1400 * exp(-(away / 40) * (away / 40))
            h += 750 * tanh(p.normalized.dot(axis) * Ellipsoid.mars.equatorialRadius / 0.7)
            let centre = Ellipsoid.mars.surfacePoint(latitude: focus.latitude + 0.06, longitude: focus.longitude)
            let d = (p - centre).length / 3
            if d < 1 { h += -1200 * (1 - d * d) + 250 } else if d < 1.5 { h += 250 * (1 - (d - 1) / 0.5) * (1 - (d - 1) / 0.5) }
        }
        return max(-3000, min(3000, h))
    }

    /// A bowl of depth `depth` (metres) and a rim a fifth as high, in some cells of `cell` km.
    func crater(_ p: Vector3, cell: Double, depth: Double) -> Double {
        guard let d = cellSpotDistance(p, cell: cell, seed: planet.seed ^ UInt64(cell * 1000), occupancy: 0.5, margin: 0.3, span: 0.4, radius: (0.12, 0.15))
        else { return 0 }
        if d < 1 { return -depth * (1 - d * d) + 0.2 * depth }
        if d < 1.6 { return 0.2 * depth * (1 - (d - 1) / 0.6) * (1 - (d - 1) / 0.6) }
        return 0
    }

    /// A shape model raster of this relief: radius (m) at pixel centres of a geographic grid with
    /// the upper-left corner at (`west`, `north`), `pixel` degrees square.
    public func raster(west: Double, north: Double, pixel: Double, width: Int, height: Int) -> [Float] {
        var values = [Float](repeating: 0, count: width * height)
        values.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: height) { j in
                let latitude = north - (Double(j) + 0.5) * pixel
                for i in 0..<width {
                    let longitude = west + (Double(i) + 0.5) * pixel
                    let radius = Ellipsoid.mars.surfacePoint(latitude: latitude, longitude: longitude).length * 1000
                    buffer[j * width + i] = Float(radius + self.height(latitude: latitude, longitude: longitude))
                }
            }
        }
        return values
    }
}

/// The simulator's writer of ICD §11 GeoTIFFs (baseline TIFF, little-endian, float32, strips of
/// 64 rows, uncompressed; ModelPixelScaleTag, ModelTiepointTag, GeoKeyDirectoryTag with a
/// geographic, pixel-is-area, degree grid; GDAL_NODATA when given). Areo reads them with libtiff.
public enum GeoTIFFWriter {
    public static func write(
        _ values: [Float], width: Int, height: Int, west: Double, north: Double, pixel: Double, noData: Double? = nil, to url: URL
    ) throws {
        let rowsPerStrip = 64
        let strips = (height + rowsPerStrip - 1) / rowsPerStrip
        var out: [UInt8] = [0x49, 0x49, 42, 0]
        func u16(_ v: Int, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
        func f64(_ v: Double, into a: inout [UInt8]) { let b = v.bitPattern; for k in 0..<8 { a.append(UInt8(b >> (8 * UInt64(k)) & 0xFF)) } }
        // Pixel data first (after the header), then the out-of-line tag values, then the IFD.
        u32(0, into: &out)  // IFD offset, patched below
        var stripOffsets: [Int] = [], stripCounts: [Int] = []
        for s in 0..<strips {
            stripOffsets.append(out.count)
            let rows = min(rowsPerStrip, height - s * rowsPerStrip)
            for k in (s * rowsPerStrip * width)..<((s * rowsPerStrip + rows) * width) { u32(Int(values[k].bitPattern), into: &out) }
            stripCounts.append(rows * width * 4)
        }
        struct Entry { var tag: Int; var type: Int; var count: Int; var value: [UInt8] }
        var entries: [Entry] = []
        func short(_ tag: Int, _ v: [Int]) { var b: [UInt8] = []; v.forEach { u16($0, into: &b) }; entries.append(Entry(tag: tag, type: 3, count: v.count, value: b)) }
        func long(_ tag: Int, _ v: [Int]) { var b: [UInt8] = []; v.forEach { u32($0, into: &b) }; entries.append(Entry(tag: tag, type: 4, count: v.count, value: b)) }
        func double(_ tag: Int, _ v: [Double]) { var b: [UInt8] = []; v.forEach { f64($0, into: &b) }; entries.append(Entry(tag: tag, type: 12, count: v.count, value: b)) }
        long(256, [width]); long(257, [height]); short(258, [32]); short(259, [1]); short(262, [1])
        long(273, stripOffsets); short(277, [1]); long(278, [rowsPerStrip]); long(279, stripCounts); short(284, [1]); short(339, [3])
        double(33550, [pixel, pixel, 0]); double(33922, [0, 0, 0, west, north, 0])
        short(34735, [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2054, 0, 1, 9102])
        if let noData {
            let text = Array(String(noData == noData.rounded() ? String(Int(noData)) : String(noData)).utf8) + [0]
            entries.append(Entry(tag: 42113, type: 2, count: text.count, value: text))
        }
        entries.sort { $0.tag < $1.tag }
        // Values longer than 4 bytes go out of line (word-aligned).
        var offsets: [Int?] = []
        for entry in entries {
            if entry.value.count > 4 {
                if out.count % 2 == 1 { out.append(0) }
                offsets.append(out.count)
                out += entry.value
            } else { offsets.append(nil) }
        }
        if out.count % 2 == 1 { out.append(0) }
        let ifd = out.count
        u16(entries.count, into: &out)
        for (entry, offset) in zip(entries, offsets) {
            u16(entry.tag, into: &out); u16(entry.type, into: &out); u32(entry.count, into: &out)
            if let offset { u32(offset, into: &out) } else { out += entry.value + [UInt8](repeating: 0, count: 4 - entry.value.count) }
        }
        u32(0, into: &out)
        (out[4], out[5], out[6], out[7]) = (UInt8(ifd & 0xFF), UInt8(ifd >> 8 & 0xFF), UInt8(ifd >> 16 & 0xFF), UInt8(ifd >> 24 & 0xFF))
        try Data(out).write(to: url)
    }
}
