import AreoGeometry
import Foundation
import Testing

/// Footprints and search boxes across the 0°/360° seam and around the poles.
@Suite struct GeographicFootprintTests {
    static func square(latitude: Double, longitude: Double, half: Double) -> [PlanetocentricCoordinates] {
        var points: [PlanetocentricCoordinates] = []
        for k in 0..<8 {
            let f = Double(k) / 8 * 2 - 1
            for (dlat, dlon) in [(f * half, -half), (f * half, half), (-half, f * half), (half, f * half)] {
                points.append(PlanetocentricCoordinates(latitude: latitude + dlat, longitude: GeographicFootprint.normalized(longitude + dlon)))
            }
        }
        return points
    }

    @Test func aFootprintAcrossTheSeamHasAnUnwrappedBoxAndASplitGeoJSON() throws {
        let points = Self.square(latitude: 10, longitude: 0.5, half: 1)
        let footprint = try #require(GeographicFootprint(points: points, projection: .forObservation(latitude: 10, longitude: 0.5)))
        #expect(abs(footprint.west - 359.5) < 1e-6)
        #expect(abs(footprint.east - 361.5) < 1e-6)
        #expect(footprint.pole == 0)
        #expect(abs(footprint.centre.longitude - 0.5) < 1e-6)
        // In −180…180 it does not cross ±180: one polygon.
        #expect(footprint.geoJSON.type == "Polygon")

        let across180 = try #require(GeographicFootprint(points: Self.square(latitude: -5, longitude: 180, half: 1), projection: .forObservation(latitude: -5, longitude: 180)))
        #expect(abs(across180.west - 179) < 1e-6 && abs(across180.east - 181) < 1e-6)
        let geometry = across180.geoJSON
        #expect(geometry.type == "MultiPolygon")
        guard case .multiPolygon(let parts) = geometry else { Issue.record("not a MultiPolygon"); return }
        let json = try #require(String(data: try JSONEncoder().encode(geometry), encoding: .utf8))
        #expect(json.contains("\"type\":\"MultiPolygon\""))
        #expect(try JSONDecoder().decode(GeoJSONGeometry.self, from: Data(json.utf8)) == geometry)
        #expect(parts.count == 2)
        for part in parts {
            let lons = part[0].map { $0[0] }
            #expect(lons.allSatisfy { (-180...180).contains($0) })
        }
    }

    @Test func aFootprintAroundAPoleSpansAllLongitudes() throws {
        let ring = (0..<36).map { PlanetocentricCoordinates(latitude: 88, longitude: Double($0) * 10) }
        let footprint = try #require(GeographicFootprint(points: ring, projection: .forObservation(latitude: 89, longitude: 0)))
        #expect(footprint.pole == 1)
        #expect(footprint.north == 90 && footprint.south == 88)
        #expect(footprint.west == 0 && footprint.east == 360)
    }

    @Test func searchBoxesUnderstandTheSeamAndBothConventions() throws {
        // −10…10 in −180…180 terms and 350…10 in 0…360 terms are the same box.
        let a = try #require(GeographicBox(parsing: "-10,-5,10,5")), b = try #require(GeographicBox(parsing: "350,-5,10,5"))
        #expect(a == b)
        #expect(a.west == 350 && a.east == 370)
        // Overlap test as the database does it: a footprint box [359.5, 361.5] meets a, and one at
        // [5, 6] meets it through the +360 copy's complement (the 0…360 copy shifted).
        func overlaps(_ box: GeographicBox, _ west: Double, _ east: Double) -> Bool {
            box.shiftedCopies.contains { $0.west <= east && west <= $0.east }
        }
        #expect(overlaps(a, 359.5, 361.5))
        #expect(overlaps(a, 5, 6))
        #expect(!overlaps(a, 100, 120))
        // A whole-planet box, and refusals.
        #expect(GeographicBox(parsing: "-180,-90,180,90").map { $0.east - $0.west } == 360)
        #expect(GeographicBox(parsing: "0,10,20,5") == nil)
        #expect(GeographicBox(parsing: "0,-95,20,5") == nil)
        #expect(GeographicBox(parsing: "a,b,c,d") == nil)
        #expect(GeographicBox(parsing: "400,0,410,5") == nil)
    }
}
