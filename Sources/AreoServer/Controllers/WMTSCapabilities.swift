import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation

/// The OGC WMTS 1.0.0 capabilities document (OGC 07-057r7): one layer per band and composite,
/// each in every tile matrix set, reachable by the RESTful template and by KVP GetTile.
enum WMTSCapabilities {
    /// The layers: each band, then each composite.
    static let layers: [[Band]] = Band.allCases.map { [$0] } + ProductRequest.composites

    static func document(base: String) -> String {
        var layerXML = ""
        for layer in layers {
            let id = layer.map(\.name).joined(separator: "-")
            let product = layer.map(\.name).joined(separator: ",")
            let title = layer.count == 1 ? "\(id) I/F" : "Colour \(product)"
            layerXML += """
                    <Layer>
                      <ows:Title>\(title)</ows:Title>
                      <ows:Abstract>Mars \(layer.count == 1 ? "\(id) band, I/F 0–0.4 stretched to 8 bits" : "colour composite \(product) (red, green, blue), I/F 0–0.4 per band"), drawn on demand from the raw packets with the newest geometry and calibration. Embargoed observations appear only to a signed-in team member.</ows:Abstract>
                      <ows:WGS84BoundingBox><ows:LowerCorner>-180 -90</ows:LowerCorner><ows:UpperCorner>180 90</ows:UpperCorner></ows:WGS84BoundingBox>
                      <ows:Identifier>\(id)</ows:Identifier>
                      <Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
                      <Format>image/png</Format>
                      <Format>image/jpeg</Format>

                """
            for set in TileMatrixSet.all {
                layerXML += "          <TileMatrixSetLink><TileMatrixSet>\(set.id)</TileMatrixSet></TileMatrixSetLink>\n"
            }
            for (format, ext) in [("image/png", "png"), ("image/jpeg", "jpg")] {
                layerXML += "          <ResourceURL format=\"\(format)\" resourceType=\"tile\" template=\"\(base)/v1/tiles/{TileMatrixSet}/{TileMatrix}/{TileCol}/{TileRow}.\(ext)?product=\(id)\"/>\n"
            }
            layerXML += "        </Layer>\n"
        }
        var setXML = ""
        for set in TileMatrixSet.all {
            // The CRS as a URN of the IAU 2015 authority (PROJ knows it as IAU_2015:<code>).
            let code = set.crs.split(separator: "/").last.map(String.init) ?? ""
            setXML += """
                    <TileMatrixSet>
                      <ows:Title>\(set.title)</ows:Title>
                      <ows:Identifier>\(set.id)</ows:Identifier>
                      <ows:SupportedCRS>urn:ogc:def:crs:IAU:2015:\(code)</ows:SupportedCRS>

                """
            for matrix in set.document.tileMatrices {
                setXML += """
                          <TileMatrix>
                            <ows:Identifier>\(matrix.id)</ows:Identifier>
                            <ScaleDenominator>\(matrix.scaleDenominator)</ScaleDenominator>
                            <TopLeftCorner>\(matrix.pointOfOrigin[0]) \(matrix.pointOfOrigin[1])</TopLeftCorner>
                            <TileWidth>\(matrix.tileWidth)</TileWidth>
                            <TileHeight>\(matrix.tileHeight)</TileHeight>
                            <MatrixWidth>\(matrix.matrixWidth)</MatrixWidth>
                            <MatrixHeight>\(matrix.matrixHeight)</MatrixHeight>
                          </TileMatrix>

                    """
            }
            setXML += "        </TileMatrixSet>\n"
        }
        func operation(_ name: String) -> String {
            """
                <ows:Operation name="\(name)">
                  <ows:DCP><ows:HTTP>
                    <ows:Get xlink:href="\(base)/v1/wmts?">
                      <ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint>
                    </ows:Get>
                    <ows:Get xlink:href="\(base)/v1/wmts/1.0.0/">
                      <ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>RESTful</ows:Value></ows:AllowedValues></ows:Constraint>
                    </ows:Get>
                  </ows:HTTP></ows:DCP>
                </ows:Operation>

            """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" version="1.0.0">
              <ows:ServiceIdentification>
                <ows:Title>Areo: Mars orbiter images on demand</ows:Title>
                <ows:Abstract>Tiles drawn from the raw telemetry packets with the newest geometry and calibration (software \(areoVersion)).</ows:Abstract>
                <ows:ServiceType>OGC WMTS</ows:ServiceType>
                <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>
              </ows:ServiceIdentification>
              <ows:OperationsMetadata>
            \(operation("GetCapabilities"))\(operation("GetTile")) </ows:OperationsMetadata>
              <Contents>
            \(layerXML)\(setXML)  </Contents>
              <ServiceMetadataURL xlink:href="\(base)/v1/wmts/1.0.0/WMTSCapabilities.xml"/>
            </Capabilities>

            """
    }
}
