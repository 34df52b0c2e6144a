import AreoGeometry
import AreoTelemetry

/// Where an observation lies on Mars, from geometry alone (no calibration, no pixels): the hull
/// of what its first, middle and last framelets of every band see.
public enum ObservationFootprint {
    /// The footprint, or nil when no framelet sees Mars with this kernel; on `terrain` when given.
    public static func footprint(of framelets: [FrameletReference], trajectory: Trajectory, camera: CameraModel, terrain: Terrain? = nil) -> GeographicFootprint? {
        var chosen: [FrameletReference] = []
        for band in Set(framelets.compactMap(\.header.band)) {
            let ofBand = framelets.filter { $0.header.band == band }.sorted { $0.header.frameletIndex < $1.header.frameletIndex }
            guard !ofBand.isEmpty else { continue }
            for k in Set([0, ofBand.count / 2, ofBand.count - 1]) { chosen.append(ofBand[k]) }
        }
        var points: [PlanetocentricCoordinates] = []
        var centre: PlanetocentricCoordinates? = nil
        for reference in chosen.sorted(by: { $0.exposureStart < $1.exposureStart }) {
            let view = ObservationProcessor.camera(for: reference, trajectory: trajectory, camera: camera, terrain: terrain)
            for (c, r) in Footprint.orderedOutline(view, pointsPerSide: 4) {
                if let seen = view.view(sample: c, line: r) { points.append(seen.coordinates) }
            }
            if centre == nil || reference.header.frameletIndex == UInt16(framelets.count / 2) {
                centre = view.view(sample: Double(view.samples - 1) / 2, line: Double(view.lines - 1) / 2)?.coordinates ?? centre
            }
        }
        guard let centre else { return nil }
        return GeographicFootprint(points: points, projection: MapProjection.forObservation(latitude: centre.latitude, longitude: centre.longitude))
    }

    /// The framelets a plan commands (first, middle and last of each band), for a footprint
    /// before any fragment has arrived.
    public static func plannedFramelets(_ plan: ObservationPlan) -> [FrameletReference] {
        var result: [FrameletReference] = []
        for window in plan.bands {
            guard let band = Band(name: window.band) else { continue }
            for k in Set([0, plan.exposures / 2, max(0, plan.exposures - 1)]) {
                let start = plan.frameletStart(k)
                let header = FragmentHeader(
                    observationID: plan.observationID, frameletIndex: UInt16(k), band: band, compression: .none,
                    exposureStart: SpacecraftClock(seconds: start), exposureDurationMicroseconds: plan.exposureMicroseconds,
                    windowFirstRow: UInt16(window.firstRow), windowRows: UInt16(window.rows),
                    windowFirstColumn: UInt16(window.firstCol), windowColumns: UInt16(window.cols),
                    bitsPerSample: UInt8(plan.bitsPerSample), binning: UInt8(max(1, plan.binning)),
                    rotationAngleCentidegrees: UInt16((plan.rotationDegrees * 100).rounded()), frameletsPlannedPerBand: UInt16(plan.exposures),
                    payloadLength: 0, payloadCRC: 0, detectorTemperatureCentidegrees: 0)
                result.append(FrameletReference(header: header, exposureStart: start))
            }
        }
        return result
    }
}
