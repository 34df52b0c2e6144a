import AreoProcessing
import Foundation

/// The bundle, collection, browse and document labels of a delivery (PDS4 Information Model
/// 1.21), each from one template with escaped values.
enum BundleLabels {
    static let namespace = """
        <?xml version="1.0" encoding="UTF-8"?>
        <?xml-model href="https://pds.nasa.gov/pds4/pds/v1/PDS4_PDS_1L00.sch" schematypens="http://purl.oclc.org/dsdl/schematron"?>
        """

    static func escape(_ text: String) -> String { PDS4ProductLabel.escape(text) }

    static func identification(lid: String, vid: String, title: String, productClass: String) -> String {
        """
          <Identification_Area>
            <logical_identifier>\(escape(lid))</logical_identifier>
            <version_id>\(escape(vid))</version_id>
            <title>\(escape(title))</title>
            <information_model_version>1.21.0.0</information_model_version>
            <product_class>\(productClass)</product_class>
          </Identification_Area>
        """
    }

    /// A `File` element (inside a File_Area), at the indentation of the collection and browse labels.
    static func file(name: String, creation: String, size: Int, records: Int? = nil, md5: String) -> String {
        """
                <File>
                  <file_name>\(escape(name))</file_name>
                  <creation_date_time>\(creation)</creation_date_time>
                  <file_size unit="byte">\(size)</file_size>
            \(records.map { "      <records>\($0)</records>\n" } ?? "")      <md5_checksum>\(md5)</md5_checksum>
                </File>
            """
    }

    /// `Product_Bundle` with one member entry per collection (lidvid).
    /// - Parameter teamInternal: the delivery includes embargoed observations: said in the
    ///   bundle's title and description, so nobody mistakes it for a public release.
    static func bundle(lid: String, vid: String, members: [(lidvid: String, referenceType: String)], creation: String, teamInternal: Bool = false) -> String {
        let entries = members.map {
            """
              <Bundle_Member_Entry>
                <lidvid_reference>\(escape($0.lidvid))</lidvid_reference>
                <member_status>Primary</member_status>
                <reference_type>\($0.referenceType)</reference_type>
              </Bundle_Member_Entry>
            """
        }.joined(separator: "\n")
        return """
            \(namespace)
            <Product_Bundle xmlns="http://pds.nasa.gov/pds4/pds/v1">
            \(identification(lid: lid, vid: vid, title: teamInternal ? "Areo archive bundle (TEAM-INTERNAL: includes embargoed observations)" : "Areo archive bundle", productClass: "Product_Bundle"))
              <Context_Area>
                <Time_Coordinates><start_date_time xsi:nil="true" nilReason="unknown" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/><stop_date_time xsi:nil="true" nilReason="unknown" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></Time_Coordinates>
                <Target_Identification><name>Mars</name><type>Planet</type></Target_Identification>
              </Context_Area>
              <Bundle>
                <bundle_type>Archive</bundle_type>
                <description>\(teamInternal ? "TEAM-INTERNAL DELIVERY, NOT FOR PUBLIC RELEASE: it includes observations under embargo. " : "")Products made by Areo on demand from archived telemetry; delivered \(escape(creation)).</description>
              </Bundle>
            \(entries)
            </Product_Bundle>

            """
    }

    /// `Product_Collection` with its inventory table (`P,lidvid` records, CRLF).
    static func collection(lid: String, vid: String, type: String, inventory: String, records: Int, inventoryBytes: Int, md5: String, creation: String) -> String {
        """
        \(namespace)
        <Product_Collection xmlns="http://pds.nasa.gov/pds4/pds/v1">
        \(identification(lid: lid, vid: vid, title: "Areo \(type.lowercased()) collection", productClass: "Product_Collection"))
          <Collection>
            <collection_type>\(type)</collection_type>
          </Collection>
          <File_Area_Inventory>
        \(file(name: inventory, creation: creation, size: inventoryBytes, records: records, md5: md5))
            <Inventory>
              <offset unit="byte">0</offset>
              <parsing_standard_id>PDS DSV 1</parsing_standard_id>
              <records>\(records)</records>
              <record_delimiter>Carriage-Return Line-Feed</record_delimiter>
              <field_delimiter>Comma</field_delimiter>
              <Record_Delimited>
                <fields>2</fields>
                <groups>0</groups>
                <Field_Delimited>
                  <name>Member Status</name>
                  <field_number>1</field_number>
                  <data_type>ASCII_String</data_type>
                  <maximum_field_length unit="byte">1</maximum_field_length>
                </Field_Delimited>
                <Field_Delimited>
                  <name>LIDVID_LID</name>
                  <field_number>2</field_number>
                  <data_type>ASCII_LIDVID_LID</data_type>
                  <maximum_field_length unit="byte">255</maximum_field_length>
                </Field_Delimited>
              </Record_Delimited>
              <reference_type>inventory_has_member_product</reference_type>
            </Inventory>
          </File_Area_Inventory>
        </Product_Collection>

        """
    }

    /// `Product_Browse` for a PNG or JPEG, referring to its data product.
    static func browse(lid: String, vid: String, title: String, file: String, md5: String, size: Int, encoding: String, dataLID: String, creation: String) -> String {
        """
        \(namespace)
        <Product_Browse xmlns="http://pds.nasa.gov/pds4/pds/v1">
        \(identification(lid: lid, vid: vid, title: title, productClass: "Product_Browse"))
          <Reference_List>
            <Internal_Reference>
              <lid_reference>\(escape(dataLID))</lid_reference>
              <reference_type>browse_to_data</reference_type>
            </Internal_Reference>
          </Reference_List>
          <File_Area_Browse>
        \(Self.file(name: file, creation: creation, size: size, md5: md5))
            <Encoded_Image>
              <offset unit="byte">0</offset>
              <encoding_standard_id>\(encoding)</encoding_standard_id>
            </Encoded_Image>
          </File_Area_Browse>
        </Product_Browse>

        """
    }

    /// `Product_Document` for the bundle's description.
    static func document(lid: String, vid: String, file: String, md5: String, size: Int, creation: String) -> String {
        """
        \(namespace)
        <Product_Document xmlns="http://pds.nasa.gov/pds4/pds/v1">
        \(identification(lid: lid, vid: vid, title: "Areo bundle description", productClass: "Product_Document"))
          <Document>
            <document_name>Areo bundle description</document_name>
            <publication_date>\(creation.prefix(10))</publication_date>
            <Document_Edition>
              <edition_name>\(escape(vid))</edition_name>
              <language>English</language>
              <files>1</files>
              <Document_File>
                <file_name>\(escape(file))</file_name>
                <file_size unit="byte">\(size)</file_size>
                <md5_checksum>\(md5)</md5_checksum>
                <document_standard_id>7-Bit ASCII Text</document_standard_id>
              </Document_File>
            </Document_Edition>
          </Document>
        </Product_Document>

        """
    }
}
