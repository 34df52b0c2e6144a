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
        let (raster, side, produced): (GeoTIFF.Raster, Side, Date)
        do throws(GeographicRasterFile.Failure) {
            let file = try GeographicRasterFile.read(path: path, section: "§11")
            raster = file.raster
            do { side = try JSONDecoder().decode(Side.self, from: file.side) } catch {
                throw GeographicRasterFile.Failure(rule: "must be {\"dem_id\": …, \"produced\": ISO 8601, \"resolution_m\": metres}", file: name + ".json")
            }
            produced = try GeographicRasterFile.time(side.produced, file: name + ".json")
        } catch { throw ShapeModelError(error.rule, file: error.file) }
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
