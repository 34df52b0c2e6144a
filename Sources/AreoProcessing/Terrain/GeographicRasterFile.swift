import AreoCodecs
import AreoTelemetry
import Foundation

/// The rules shape models (ICD §11) and reference maps (ICD §12) share: a GeoTIFF of one float32
/// band on a geographic grid (planetocentric latitude, east longitude, degrees, pixel-is-area,
/// tied at the upper-left corner) and a JSON side file of the same name with `.json` added.
public enum GeographicRasterFile {
    /// Which file breaks which rule.
    public struct Failure: Error, Sendable {
        public var rule: String
        public var file: String
    }

    /// The raster read by libtiff and checked, and the side file's bytes.
    public static func read(path: String, section: String) throws(Failure) -> (raster: GeoTIFF.Raster, side: Data) {
        let name = (path as NSString).lastPathComponent
        guard let side = FileManager.default.contents(atPath: path + ".json") else {
            throw Failure(rule: "the side file \(name).json is missing (ICD \(section): the same name with .json added)", file: name)
        }
        let raster: GeoTIFF.Raster
        do { raster = try GeoTIFF.readFloat32(path: path) } catch {
            throw Failure(rule: error.message.hasPrefix(name + ": ") ? String(error.message.dropFirst(name.count + 2)) : error.message, file: name)
        }
        if let model = raster.modelType, model != 2 {
            throw Failure(rule: "GTModelTypeGeoKey is \(model); ICD \(section) grids are geographic (2)", file: name)
        }
        if let type = raster.rasterType, type != 1 {
            throw Failure(rule: "GTRasterTypeGeoKey is \(type); the ICD's grids are pixel-is-area (1)", file: name)
        }
        if let units = raster.angularUnits, units != 9102 {
            throw Failure(rule: "GeogAngularUnitsGeoKey is \(units); the ICD's grids are in degrees (9102)", file: name)
        }
        guard raster.tiepoint.i == 0, raster.tiepoint.j == 0 else {
            throw Failure(rule: "ModelTiepointTag ties raster point (\(raster.tiepoint.i), \(raster.tiepoint.j)); the ICD ties the upper-left corner (0, 0)", file: name)
        }
        return (raster, side)
    }

    /// A side file's `produced`, which must be ISO 8601.
    public static func time(_ text: String, file: String) throws(Failure) -> Date {
        guard let date = GroundTime.parse(text) else { throw Failure(rule: "produced '\(text.prefix(40))' is not an ISO 8601 time", file: file) }
        return date
    }
}
