import AreoGeometry
import Foundation
import Testing

/// Areo's map projections against PROJ's `cs2cs` (Debian proj-bin), forward and inverse, with
/// the very PROJ strings the products state.
@Suite struct MapProjectionTests {
    static let cs2cs = ["/usr/bin/cs2cs", "/usr/local/bin/cs2cs"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs cs2cs on "a b" lines; returns the first two numbers of each output line.
    static func run(_ arguments: [String], _ points: [(Double, Double)]) throws -> [(Double, Double)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(cs2cs, "cs2cs (proj-bin) is needed: scripts/bootstrap installs it"))
        process.arguments = ["-f", "%.9f"] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(points.map { "\($0.0) \($0.1)\n" }.joined().utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            let numbers = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            return (numbers[0], numbers[1])
        }
    }

    static let geographic = "+proj=longlat +R=3396190 +no_defs"

    @Test(arguments: [
        MapProjection.equirectangular(centerLongitude: 27, standardParallel: -6),
        MapProjection.equirectangular(centerLongitude: 355, standardParallel: 40),
        MapProjection.polarStereographic(north: true, centerLongitude: 0),
        MapProjection.polarStereographic(north: false, centerLongitude: 0),
    ])
    func forwardAndInverseAgreeWithPROJ(_ projection: MapProjection) throws {
        let points: [(lat: Double, lon: Double)]
        switch projection {
        case .equirectangular(let lon0, let lat1):
            points = [(lat1, lon0), (lat1 + 0.3, lon0 - 0.4), (lat1 - 1.2, lon0 + 2.5), (lat1 + 3, lon0 + 7)]
        case .polarStereographic(let north, _):
            let s = north ? 1.0 : -1.0
            points = [(s * 66, 10), (s * 72.5, 123.4), (s * 85, 250), (s * 89.9, 359)]
        }
        // PROJ wants longitudes in (−180, 180].
        let lonLat = points.map { ($0.lon > 180 ? $0.lon - 360 : $0.lon, $0.lat) }
        let target = projection.projString.split(separator: " ").map(String.init)
        let proj = try Self.run(Self.geographic.split(separator: " ").map(String.init) + ["+to"] + target, lonLat)
        #expect(proj.count == points.count)
        for (point, expected) in zip(points, proj) {
            let mine = projection.forward(latitude: point.lat, longitude: point.lon)
            #expect(abs(mine.x - expected.0) < 1e-3, "x of \(point) in \(projection)")
            #expect(abs(mine.y - expected.1) < 1e-3, "y of \(point) in \(projection)")
            let back = projection.inverse(x: mine.x, y: mine.y)
            #expect(abs(back.latitude - point.lat) < 1e-9)
            #expect(abs(MapProjection.wrapForTests(back.longitude - point.lon)) < 1e-9)
        }
        // PROJ's inverse of Areo's map coordinates gives the same ground points.
        let xy = points.map { projection.forward(latitude: $0.lat, longitude: $0.lon) }.map { ($0.x, $0.y) }
        let inverse = try Self.run(target + ["+to"] + Self.geographic.split(separator: " ").map(String.init), xy)
        for (point, ground) in zip(points, inverse) {
            #expect(abs(ground.1 - point.lat) < 1e-7)
            #expect(abs(MapProjection.wrapForTests(ground.0 - point.lon)) < 1e-7)
        }
    }

    @Test func observationsChooseTheirProjectionByLatitude() {
        #expect(MapProjection.forObservation(latitude: -6.2, longitude: 27.4) == .equirectangular(centerLongitude: 27, standardParallel: -6))
        #expect(MapProjection.forObservation(latitude: 65, longitude: 10) == .equirectangular(centerLongitude: 10, standardParallel: 65))
        #expect(MapProjection.forObservation(latitude: 65.01, longitude: 10) == .polarStereographic(north: true, centerLongitude: 0))
        #expect(MapProjection.forObservation(latitude: -80, longitude: 10) == .polarStereographic(north: false, centerLongitude: 0))
        #expect(MapProjection.forObservation(latitude: 0, longitude: 359.7) == .equirectangular(centerLongitude: 0, standardParallel: 0))
    }

    @Test func gridsAreAlignedAndKnowTheirBounds() {
        let projection = MapProjection.equirectangular(centerLongitude: 0, standardParallel: 0)
        let grid = MapGrid(projection: projection, scale: 4, covering: (minX: -10.5, minY: 3, maxX: 21, maxY: 17.2))
        #expect(grid.minX == -12 && grid.maxY == 20 && grid.width == 9 && grid.height == 5)
        #expect(grid.center(column: 0, row: 0) == (-10, 18))
        let p = grid.pixel(x: -10, y: 18)
        #expect(p.column == 0 && p.row == 0)
        // A grid straddling the prime meridian: west bound in the 350s, east just past 0.
        let wide = MapGrid(projection: projection, scale: 1000, covering: (minX: -60_000, minY: -1000, maxX: 60_000, maxY: 1000))
        let bounds = wide.geographicBounds
        #expect(bounds.west > 358 && bounds.east < 2 && bounds.north > 0 && bounds.south < 0)
    }
}

extension MapProjection {
    static func wrapForTests(_ d: Double) -> Double { var x = d.truncatingRemainder(dividingBy: 360); if x > 180 { x -= 360 }; if x <= -180 { x += 360 }; return x }
}
