import AreoCodecs
import AreoGeometry
import AreoTelemetry
import Foundation

/// Reads a shape model as the ICD delivers it (§11): `NAME.dem.tif` (GeoTIFF, one float32 band of
/// radius in metres, geographic, pixel-is-area) and its side file `NAME.dem.tif.json`
/// (`dem_id`, `produced`, `resolution_m`).
public enum ShapeModelFile {
    struct Side: Decodable {
        var demID: String
        var produced: String
        var resolution: Double
        enum CodingKeys: String, CodingKey { case demID = "dem_id", produced, resolution = "resolution_m" }
    }

    /// - Throws: ``ShapeModelError`` naming the file and the rule (a GeoTIFF libtiff cannot read,
    ///   a side file missing or malformed, georeferencing other than the ICD's, implausible radii).
    public static func read(path: String) throws(ShapeModelError) -> ShapeModel {
        let name = (path as NSString).lastPathComponent
        let sidePath = path + ".json"
        let sideName = name + ".json"
        guard let sideData = FileManager.default.contents(atPath: sidePath) else {
            throw ShapeModelError("the side file \(sideName) is missing (ICD §11: the same name with .json added)", file: name)
        }
        let side: Side
        do { side = try JSONDecoder().decode(Side.self, from: sideData) } catch {
            throw ShapeModelError("must be {\"dem_id\": …, \"produced\": ISO 8601, \"resolution_m\": metres}", file: sideName)
        }
        guard let produced = GroundTime.parse(side.produced) else {
            throw ShapeModelError("produced '\(side.produced.prefix(40))' is not an ISO 8601 time", file: sideName)
        }
        let raster: GeoTIFF.Raster
        do { raster = try GeoTIFF.readFloat32(path: path) } catch {
            throw ShapeModelError(error.message.hasPrefix(name + ": ") ? String(error.message.dropFirst(name.count + 2)) : error.message, file: name)
        }
        if let model = raster.modelType, model != 2 {
            throw ShapeModelError("GTModelTypeGeoKey is \(model); a shape model is on a geographic grid (2)", file: name)
        }
        if let type = raster.rasterType, type != 1 {
            throw ShapeModelError("GTRasterTypeGeoKey is \(type); the ICD's grids are pixel-is-area (1)", file: name)
        }
        if let units = raster.angularUnits, units != 9102 {
            throw ShapeModelError("GeogAngularUnitsGeoKey is \(units); the ICD's grids are in degrees (9102)", file: name)
        }
        guard raster.tiepoint.i == 0, raster.tiepoint.j == 0 else {
            throw ShapeModelError("ModelTiepointTag ties raster point (\(raster.tiepoint.i), \(raster.tiepoint.j)); the ICD ties the upper-left corner (0, 0)", file: name)
        }
        do {
            return try ShapeModel(
                id: side.demID, produced: produced, resolution: side.resolution, width: raster.width, height: raster.height,
                west: raster.tiepoint.x, north: raster.tiepoint.y, pixelWidth: raster.pixelScale.x, pixelHeight: raster.pixelScale.y,
                values: raster.values, noData: raster.noData)
        } catch {
            throw ShapeModelError(error.rule, file: name)
        }
    }
}
