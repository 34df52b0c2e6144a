import AreoTelemetry
import AreoGeometry
import Foundation

/// The PDS4 label of a `.dat` product (Information Model 1.21, Cart discipline for projected
/// products), filled in from one template, as GDAL's PDS4 driver does with its template: the XML
/// structure lives in ``template`` and the code only supplies escaped values.
public struct PDS4ProductLabel: Sendable {
    public var request: ProductRequest
    public var provenance: ProductProvenance
    public var raster: ProductRaster
    public var dataFileName: String
    public var startTime: Date
    public var stopTime: Date
    public var creation: Date
    public var md5: String
    /// The PDS4 version id (`1.0`; a reprocessed product gets the next major version).
    public var versionID = "1.0"
    /// For projected products: latitude/longitude bounds (degrees, east longitude).
    public var bounds: (west: Double, east: Double, north: Double, south: Double)?

    public init(request: ProductRequest, provenance: ProductProvenance, raster: ProductRaster, dataFileName: String,
                startTime: Date, stopTime: Date, creation: Date = Date(), md5: String,
                bounds: (west: Double, east: Double, north: Double, south: Double)? = nil) {
        self.request = request
        self.provenance = provenance
        self.raster = raster
        self.dataFileName = dataFileName
        self.startTime = startTime
        self.stopTime = stopTime
        self.creation = creation
        self.md5 = md5
        self.bounds = bounds
    }

    /// The logical identifier: `urn:esa:psa:areo:data_<kind>:<observation>_<kind>_<bands>[_<scale>m]`.
    public var logicalIdentifier: String { Self.logicalIdentifier(request) }

    /// The bundle collection a product of `kind` belongs to.
    public static func collection(of kind: ProductRequest.Kind) -> String {
        kind == .raw ? "data_raw" : kind == .calibrated ? "data_calibrated" : "data_projected"
    }

    /// The collection a logical identifier (or lidvid) of ``logicalIdentifier(_:collection:)`` belongs to.
    public static func collection(ofLID lid: String) -> String? {
        let parts = lid.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 5 && parts[0] == "urn" && parts[3] == "areo" ? String(parts[4]) : nil
    }

    /// The logical identifier of `request` in `collection` (by default its data collection;
    /// `browse` for its browse image).
    public static func logicalIdentifier(_ request: ProductRequest, collection: String? = nil) -> String {
        let scale = request.kind == .raw || request.kind == .calibrated ? "" : "_\(ProductRequest.format(request.scale).replacingOccurrences(of: ".", with: "p"))m"
        return "urn:esa:psa:areo:\(collection ?? Self.collection(of: request.kind)):\(request.observationID)_\(request.kind.rawValue)_\(request.bands.map { $0.name.lowercased() }.joined(separator: "_"))\(scale)"
    }

    public func render() -> String {
        var values: [String: String] = [
            "lid": logicalIdentifier, "vid": versionID,
            "title": "Areo \(request.kind.rawValue) product of observation \(request.observationID), \(request.bands.map(\.name).joined(separator: "-"))",
            "start": Self.iso(startTime), "stop": Self.iso(stopTime), "creation": Self.iso(creation),
            "observation_id": String(request.observationID), "kernel_id": provenance.kernelID,
            "calibration_id": provenance.calibrationID, "software": provenance.softwareVersion,
            "shape_models": provenance.shapeModels.isEmpty ? "none" : provenance.shapeModelList,
            "mechanism_offset": provenance.mechanismOffsetText ?? "0", "straylight_epsilon": provenance.straylightEpsilonText ?? "none",
            "file_name": dataFileName, "md5": md5, "unit": raster.unit,
            "missing": Self.decimal(ProductRaster.SpecialConstant.missing), "saturated": Self.decimal(ProductRaster.SpecialConstant.saturated),
            "band_names": request.bands.map(\.name).joined(separator: ", "),
        ]
        values["array"] = Self.arrayElement(bands: raster.bands.count, lines: raster.height, samples: raster.width)
        values["cart"] = ""
        if let grid = raster.grid, let bounds {
            var cart = Self.cartography
            let projection: String
            switch grid.projection {
            case .equirectangular(let lon0, let lat1):
                projection = Self.equirectangular.replacingOccurrences(of: "{{lat1}}", with: Self.number(lat1))
                    .replacingOccurrences(of: "{{lon0}}", with: Self.number(lon0))
            case .polarStereographic(let north, let lon0):
                projection = Self.polarStereographic.replacingOccurrences(of: "{{lat0}}", with: north ? "90" : "-90")
                    .replacingOccurrences(of: "{{lon0}}", with: Self.number(lon0))
            }
            let degreesPerPixel = grid.scale / MapProjection.radius * 180 / .pi
            for (key, value) in [
                ("projection", projection), ("west", Self.number(bounds.west)), ("east", Self.number(bounds.east)),
                ("north", Self.number(bounds.north)), ("south", Self.number(bounds.south)), ("scale", Self.number(grid.scale)),
                ("pixels_per_degree", Self.number(1 / degreesPerPixel)), ("ulx", Self.number(grid.minX)), ("uly", Self.number(grid.maxY)),
                ("radius", Self.number(MapProjection.radius)),
            ] { cart = cart.replacingOccurrences(of: "{{\(key)}}", with: value) }
            values["cart"] = cart
        }
        var label = Self.template
        // Nested templates first (they carry placeholders of their own), then the values.
        for key in ["array", "cart"] { label = label.replacingOccurrences(of: "{{\(key)}}", with: values[key]!) }
        for (key, value) in values where key != "array" && key != "cart" {
            label = label.replacingOccurrences(of: "{{\(key)}}", with: Self.escape(value))
        }
        return label
    }

    /// A PDS4 date-time (ISO 8601 UTC with fractional seconds).
    public static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }

    /// A float32 special constant in decimal, exactly (read back as float32 it is the same bits);
    /// GDAL's PDS4 driver and pds4-tools read decimal constants.
    static func decimal(_ value: Float) -> String { String(Double(value)) }

    /// `text` as XML character data or attribute value.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let template = """
        <?xml version="1.0" encoding="UTF-8"?>
        <?xml-model href="https://pds.nasa.gov/pds4/pds/v1/PDS4_PDS_1L00.sch" schematypens="http://purl.oclc.org/dsdl/schematron"?>
        <Product_Observational xmlns="http://pds.nasa.gov/pds4/pds/v1" xmlns:cart="http://pds.nasa.gov/pds4/cart/v1"
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
            xsi:schemaLocation="http://pds.nasa.gov/pds4/pds/v1 https://pds.nasa.gov/pds4/pds/v1/PDS4_PDS_1L00.xsd http://pds.nasa.gov/pds4/cart/v1 https://pds.nasa.gov/pds4/cart/v1/PDS4_CART_1L00_1970.xsd">
          <Identification_Area>
            <logical_identifier>{{lid}}</logical_identifier>
            <version_id>{{vid}}</version_id>
            <title>{{title}}</title>
            <information_model_version>1.21.0.0</information_model_version>
            <product_class>Product_Observational</product_class>
          </Identification_Area>
          <Observation_Area>
            <comment>Made by Areo {{software}} on demand from the archived telemetry with geometry kernel {{kernel_id}}, calibration set {{calibration_id}} and shape models {{shape_models}}; mechanism offset {{mechanism_offset}} deg, straylight epsilon {{straylight_epsilon}}.</comment>
            <Time_Coordinates>
              <start_date_time>{{start}}</start_date_time>
              <stop_date_time>{{stop}}</stop_date_time>
            </Time_Coordinates>
            <Investigation_Area>
              <name>Areo demonstration mission</name>
              <type>Mission</type>
              <Internal_Reference>
                <lid_reference>urn:esa:psa:context:investigation:mission.areo</lid_reference>
                <reference_type>data_to_investigation</reference_type>
              </Internal_Reference>
            </Investigation_Area>
            <Observing_System>
              <Observing_System_Component>
                <name>Colour push-frame imager</name>
                <type>Instrument</type>
              </Observing_System_Component>
            </Observing_System>
            <Target_Identification>
              <name>Mars</name>
              <type>Planet</type>
            </Target_Identification>
            <Mission_Area>
              <areo:observation_id xmlns:areo="urn:areo:mission">{{observation_id}}</areo:observation_id>
              <areo:geometry_kernel_id xmlns:areo="urn:areo:mission">{{kernel_id}}</areo:geometry_kernel_id>
              <areo:calibration_set_id xmlns:areo="urn:areo:mission">{{calibration_id}}</areo:calibration_set_id>
              <areo:shape_model_ids xmlns:areo="urn:areo:mission">{{shape_models}}</areo:shape_model_ids>
              <areo:mechanism_offset_deg xmlns:areo="urn:areo:mission">{{mechanism_offset}}</areo:mechanism_offset_deg>
              <areo:straylight_epsilon xmlns:areo="urn:areo:mission">{{straylight_epsilon}}</areo:straylight_epsilon>
              <areo:bands xmlns:areo="urn:areo:mission">{{band_names}}</areo:bands>
            </Mission_Area>
        {{cart}}  </Observation_Area>
          <File_Area_Observational>
            <File>
              <file_name>{{file_name}}</file_name>
              <creation_date_time>{{creation}}</creation_date_time>
              <md5_checksum>{{md5}}</md5_checksum>
            </File>
        {{array}}  </File_Area_Observational>
        </Product_Observational>

        """

    /// The array: Array_2D_Image (Line, Sample) or Array_3D_Image (Band, Line, Sample).
    static let array = """
            <{{array_class}}>
              <local_identifier>image</local_identifier>
              <offset unit="byte">0</offset>
              <axes>{{axes}}</axes>
              <axis_index_order>Last Index Fastest</axis_index_order>
              <Element_Array>
                <data_type>IEEE754LSBSingle</data_type>
                <unit>{{unit}}</unit>
              </Element_Array>
        {{axis_arrays}}      <Special_Constants>
                <missing_constant>{{missing}}</missing_constant>
                <high_instrument_saturation>{{saturated}}</high_instrument_saturation>
              </Special_Constants>
            </{{array_class}}>

        """

    static let axisArray = """
              <Axis_Array>
                <axis_name>{{name}}</axis_name>
                <elements>{{elements}}</elements>
                <sequence_number>{{sequence}}</sequence_number>
              </Axis_Array>

        """

    /// The filled-in array element of a raster with `bands` bands.
    static func arrayElement(bands: Int, lines: Int, samples: Int) -> String {
        let axes = (bands > 1 ? [("Band", bands)] : []) + [("Line", lines), ("Sample", samples)]
        let axisArrays = axes.enumerated().map { index, axis in
            axisArray.replacingOccurrences(of: "{{name}}", with: axis.0).replacingOccurrences(of: "{{elements}}", with: String(axis.1))
                .replacingOccurrences(of: "{{sequence}}", with: String(index + 1))
        }.joined()
        return array.replacingOccurrences(of: "{{array_class}}", with: bands > 1 ? "Array_3D_Image" : "Array_2D_Image")
            .replacingOccurrences(of: "{{axes}}", with: String(axes.count)).replacingOccurrences(of: "{{axis_arrays}}", with: axisArrays)
    }

    static let cartography = """
          <Discipline_Area>
            <cart:Cartography>
              <Local_Internal_Reference>
                <local_identifier_reference>image</local_identifier_reference>
                <local_reference_type>cartography_parameters_to_image_object</local_reference_type>
              </Local_Internal_Reference>
              <cart:Spatial_Domain>
                <cart:Bounding_Coordinates>
                  <cart:west_bounding_coordinate unit="deg">{{west}}</cart:west_bounding_coordinate>
                  <cart:east_bounding_coordinate unit="deg">{{east}}</cart:east_bounding_coordinate>
                  <cart:north_bounding_coordinate unit="deg">{{north}}</cart:north_bounding_coordinate>
                  <cart:south_bounding_coordinate unit="deg">{{south}}</cart:south_bounding_coordinate>
                </cart:Bounding_Coordinates>
              </cart:Spatial_Domain>
              <cart:Spatial_Reference_Information>
                <cart:Horizontal_Coordinate_System_Definition>
                  <cart:Planar>
                    <cart:Map_Projection>
        {{projection}}            </cart:Map_Projection>
                    <cart:Planar_Coordinate_Information>
                      <cart:planar_coordinate_encoding_method>Coordinate Pair</cart:planar_coordinate_encoding_method>
                      <cart:Coordinate_Representation>
                        <cart:pixel_resolution_x unit="m/pixel">{{scale}}</cart:pixel_resolution_x>
                        <cart:pixel_resolution_y unit="m/pixel">{{scale}}</cart:pixel_resolution_y>
                        <cart:pixel_scale_x unit="pixel/deg">{{pixels_per_degree}}</cart:pixel_scale_x>
                        <cart:pixel_scale_y unit="pixel/deg">{{pixels_per_degree}}</cart:pixel_scale_y>
                      </cart:Coordinate_Representation>
                    </cart:Planar_Coordinate_Information>
                    <cart:Geo_Transformation>
                      <cart:upperleft_corner_x unit="m">{{ulx}}</cart:upperleft_corner_x>
                      <cart:upperleft_corner_y unit="m">{{uly}}</cart:upperleft_corner_y>
                    </cart:Geo_Transformation>
                  </cart:Planar>
                  <cart:Geodetic_Model>
                    <cart:latitude_type>Planetocentric</cart:latitude_type>
                    <cart:spheroid_name>Mars 2000 Sphere</cart:spheroid_name>
                    <cart:a_axis_radius unit="m">{{radius}}</cart:a_axis_radius>
                    <cart:b_axis_radius unit="m">{{radius}}</cart:b_axis_radius>
                    <cart:c_axis_radius unit="m">{{radius}}</cart:c_axis_radius>
                    <cart:longitude_direction>Positive East</cart:longitude_direction>
                  </cart:Geodetic_Model>
                </cart:Horizontal_Coordinate_System_Definition>
              </cart:Spatial_Reference_Information>
            </cart:Cartography>
          </Discipline_Area>

        """

    static let equirectangular = """
                      <cart:map_projection_name>Equirectangular</cart:map_projection_name>
                      <cart:Equirectangular>
                        <cart:standard_parallel_1 unit="deg">{{lat1}}</cart:standard_parallel_1>
                        <cart:longitude_of_central_meridian unit="deg">{{lon0}}</cart:longitude_of_central_meridian>
                        <cart:latitude_of_projection_origin unit="deg">0</cart:latitude_of_projection_origin>
                      </cart:Equirectangular>

        """

    static let polarStereographic = """
                      <cart:map_projection_name>Polar Stereographic</cart:map_projection_name>
                      <cart:Polar_Stereographic>
                        <cart:straight_vertical_longitude_from_pole unit="deg">{{lon0}}</cart:straight_vertical_longitude_from_pole>
                        <cart:scale_factor_at_projection_origin>1</cart:scale_factor_at_projection_origin>
                        <cart:latitude_of_projection_origin unit="deg">{{lat0}}</cart:latitude_of_projection_origin>
                      </cart:Polar_Stereographic>

        """
}
