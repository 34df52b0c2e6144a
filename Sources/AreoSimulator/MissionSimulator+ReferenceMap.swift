import AreoGeometry
import AreoTelemetry
import Foundation

/// `--reference-map`: what geometry refinement needs and its truth (ICD §12).
extension MissionSimulator {
    /// The predicted kernel's errors with a reference map: the orbit `timingError` seconds late
    /// (about a kilometre along track) and the pointing turned about +X (across track).
    static let referenceMapTimingError = 0.4
    static let referenceMapPointingError = 2e-4
    /// The reference map's scale in camera pixels (ICD §12: typically 4–6 times coarser), its
    /// stated accuracy and its real position error (east, north), metres.
    static let referenceMapCameraPixels = 5.0
    static let referenceMapAccuracy = 2.0
    static let referenceMapShift = (east: 1.2, north: -0.8)

    /// A second observation overlapping the first: the same ground track, starting half way
    /// through it (its first half is the first one's second half).
    func overlappingFollowUp(of first: PlannedObservation, geometry: MissionGeometry, id: UInt32) -> PlannedObservation {
        var plan = first.plan
        plan.observationID = id
        plan.embargoUntil = nil
        plan.rationale = "simulated follow-up overlapping \(first.plan.observationID)"
        let startT = first.startT + Double(plan.exposures) * plan.intervalSeconds / 2
        let state = geometry.state(at: startT + Double(plan.exposures) * plan.intervalSeconds / 2)
        let centre = Ellipsoid.mars.intersect(origin: state.position, direction: state.attitude.rotate(Vector3(0, 0, 1))).map(PlanetocentricCoordinates.init) ?? first.centre
        return PlannedObservation(plan: plan, startT: startT, centre: centre, compression: first.compression)
    }

    /// The reference map over `observation` (its ground and 2 km each side): the truth's I/F
    /// under the observation's Sun, on the terrain when there is one, averaged over 5 × 5 points
    /// per pixel at ``referenceMapCameraPixels`` ground samples, displaced by ``referenceMapShift``.
    /// Returns the map's truth entry.
    func writeReferenceMap(over observation: PlannedObservation, geometry: MissionGeometry, terrain: Terrain?, into directory: URL) throws -> [String: Any] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let plan = observation.plan
        var (south, north, west, east) = groundBox(of: observation, geometry: geometry, around: observation.centre.longitude)
        let metresPerDegree = Ellipsoid.mars.equatorialRadius * 1000 * .pi / 180
        let stretch = 1 / max(0.2, cos(observation.centre.latitude * .pi / 180))
        let margin = 2_000 / metresPerDegree
        (south, north, west, east) = (south - margin, north + margin, west - margin * stretch, east + margin * stretch)
        let gsd = 400 * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM * 1000 * Double(plan.binning)
        let resolution = Self.referenceMapCameraPixels * gsd
        let pixel = resolution / metresPerDegree
        let (width, height) = (Int((east - west) / pixel) + 1, Int((north - south) / pixel) + 1)
        let sun = geometry.sun(at: observation.startT + Double(plan.exposures) * plan.intervalSeconds / 2)
        let (dLat, dLon) = (Self.referenceMapShift.north / metresPerDegree, Self.referenceMapShift.east / metresPerDegree * stretch)
        var values = [Float](repeating: 0, count: width * height)
        for j in 0..<height {
            for i in 0..<width {
                var sum = 0.0
                for sj in 0..<5 {
                    for si in 0..<5 {
                        // The map shows the ground displaced by the shift: what is at (lat, lon) appears at (lat + dLat, lon + dLon).
                        let lat = north - (Double(j) + (Double(sj) + 0.5) / 5) * pixel - dLat
                        let lon = west + (Double(i) + (Double(si) + 0.5) / 5) * pixel - dLon
                        if let terrain {
                            let p = terrain.surfacePoint(latitude: lat, longitude: lon)
                            sum += planet.albedo(p, band: .pan) * max(terrain.normal(at: p).dot((sun - p).normalized), 0)
                        } else {
                            sum += planet.iof(Ellipsoid.mars.surfacePoint(latitude: lat, longitude: lon), band: .pan, sun: sun)
                        }
                    }
                }
                values[j * width + i] = Float(sum / 25)
            }
        }
        let id = "sim-refmap-\(plan.observationID)"
        let file = "\(id).tif"
        let longitudeWest = west < 0 ? west + 360 : west
        try GeoTIFFWriter.write(values, width: width, height: height, west: longitudeWest, north: north, pixel: pixel, to: directory.appendingPathComponent(file))
        let side: [String: Any] = ["map_id": id, "produced": "2026-08-01T00:00:00Z", "resolution_m": resolution, "band": "PAN", "accuracy_m": Self.referenceMapAccuracy]
        try JSONSerialization.data(withJSONObject: side, options: [.sortedKeys]).write(to: directory.appendingPathComponent(file + ".json"))
        return ["map_id": id, "file": "refmap/\(file)", "resolution_m": resolution, "accuracy_m": Self.referenceMapAccuracy,
                "shift_m": [Self.referenceMapShift.east, Self.referenceMapShift.north], "covers_observation": Int(plan.observationID)]
    }
}
