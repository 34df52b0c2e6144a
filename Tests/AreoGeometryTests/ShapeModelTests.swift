import AreoGeometry
import Foundation
import Testing

/// Shape models (ICD §11): bilinear radius between pixel centres, no data, the applicability rule
/// (finest, then newest) and the ICD's checks on values and grids.
@Suite struct ShapeModelTests {
    /// A 4 × 3 model over 10–14°E, 20–17°N whose radius is a plane in longitude and latitude.
    static func plane(id: String = "plane", resolution: Double = 100, produced: TimeInterval = 0, hole: Int? = nil) throws -> ShapeModel {
        var values: [Float] = []
        for r in 0..<3 { for c in 0..<4 { values.append(Float(3_390_000 + 100 * (10.5 + Double(c)) - 50 * (19.5 - Double(r)))) } }
        if let hole { values[hole] = -32768 }
        return try ShapeModel(id: id, produced: Date(timeIntervalSince1970: produced), resolution: resolution, width: 4, height: 3,
                              west: 10, north: 20, pixelWidth: 1, pixelHeight: 1, values: values, noData: -32768)
    }

    @Test func radiusIsBilinearBetweenPixelCentres() throws {
        let model = try Self.plane()
        for (lat, lon) in [(19.5, 10.5), (18.2, 12.7), (17.5, 13.5), (19.0, 11.0)] {
            let expected = 3_390_000 + 100 * lon - 50 * lat
            #expect(abs((model.radius(latitude: lat, longitude: lon) ?? 0) - expected) < 0.01, "\(lat), \(lon)")
        }
        // Outside the centres of the edge pixels, beyond the model, or hostile: no radius.
        #expect(model.radius(latitude: 19.8, longitude: 12) == nil)
        #expect(model.radius(latitude: 18, longitude: 15) == nil)
        #expect(model.radius(latitude: .nan, longitude: 12) == nil)
        #expect(model.radius(latitude: 18, longitude: 372.5) != nil, "longitudes wrap")
        #expect(abs((model.radius(latitude: 18, longitude: 12.7 - 3600) ?? 0) - (model.radius(latitude: 18, longitude: 12.7) ?? 1)) < 1e-3, "ten turns west")
        // A huge finite longitude is answered at once (round the planet in one step, not turn by turn).
        for far in [1e300, -1e300, 1e17] {
            let radius = model.radius(latitude: 18, longitude: far)
            #expect(radius == nil || (3_390_000...3_400_000).contains(radius!), "\(far): \(String(describing: radius))")
        }
        // A no-data neighbour: no radius there, a radius elsewhere.
        let holed = try Self.plane(hole: 5)
        #expect(holed.radius(latitude: 18.6, longitude: 11.2) == nil)
        #expect(holed.radius(latitude: 17.6, longitude: 13.2) != nil)
    }

    @Test func theFinestModelWithDataAppliesTiesToTheNewest() throws {
        let coarse = try Self.plane(id: "coarse", resolution: 463)
        let fine = try Self.plane(id: "fine", resolution: 46, hole: 5)
        let newer = try Self.plane(id: "newer-coarse", resolution: 463, produced: 1000)
        #expect(ShapeModel.applicable([coarse, fine], latitude: 17.6, longitude: 13.2)?.model.id == "fine")
        #expect(ShapeModel.applicable([coarse, fine], latitude: 18.6, longitude: 11.2)?.model.id == "coarse", "where the fine one has no data")
        #expect(ShapeModel.applicable([coarse, newer], latitude: 18.6, longitude: 11.2)?.model.id == "newer-coarse")
        #expect(ShapeModel.applicable([coarse, fine], latitude: -40, longitude: 11.2) == nil, "the ellipsoid applies")
    }

    @Test func valuesAndGridsOutsideTheICDAreRefused() throws {
        func refusal(_ values: [Float], noData: Double? = nil, west: Double = 10, north: Double = 20, pixel: Double = 1, id: String = "m") -> String? {
            do {
                _ = try ShapeModel(id: id, produced: Date(), resolution: 100, width: 2, height: 2, west: west, north: north,
                                   pixelWidth: pixel, pixelHeight: pixel, values: values, noData: noData)
                return nil
            } catch { return error.description }
        }
        let good: [Float] = [3_390_000, 3_390_100, 3_389_900, 3_390_050]
        #expect(refusal(good) == nil)
        #expect(refusal([1200, 1300, 900, 1000])?.contains("heights or kilometres are not radii") == true)
        #expect(refusal([.nan, 3_390_000, 3_390_000, 3_390_000])?.contains("not a radius") == true)
        #expect(refusal([-32768, -32768, -32768, -32768], noData: -32768)?.contains("every pixel is no data") == true)
        #expect(refusal(good, north: 95)?.contains("latitude") == true)
        #expect(refusal(good, north: -89.5)?.contains("beyond the planet") == true)
        #expect(refusal(good, pixel: 0) != nil && refusal(good, pixel: .infinity) != nil)
        #expect(refusal(good, id: "../etc") != nil)
    }
}
