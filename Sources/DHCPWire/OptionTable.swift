/// Value types of options and header fields.
public enum OptionType: Sendable, Hashable, CustomStringConvertible {
    case ipv4, ipv4Plus, ipv4Star
    case byte, bytePlus, string, bool
    case u16, u16Plus, u32, u32Plus
    /// Client identifier: set from 16-bit words, read back as big-endian 16-bit words (as the original).
    case identifier
    /// A flag option with no value (80, rapid commit).
    case none
    /// An option built by an RFC helper (`RFCHelpers.swift`); raw bytes or an `RFCValue` only.
    case rfc(String)
    /// Codes 224-254: kept when decoded and echoed, but not settable.
    case reserved
    /// The 6-byte chaddr field (no converter).
    case hardwareAddress

    /// The original's type id string.
    public var description: String {
        switch self {
        case .ipv4: "ipv4"
        case .ipv4Plus: "ipv4+"
        case .ipv4Star: "ipv4*"
        case .byte: "byte"
        case .bytePlus: "byte+"
        case .string: "string"
        case .bool: "bool"
        case .u16: "16-bits"
        case .u16Plus: "16-bits+"
        case .u32: "32-bits"
        case .u32Plus: "32-bits+"
        case .identifier: "identifier"
        case .none: "none"
        case .rfc(let name): name
        case .reserved: "reserved"
        case .hardwareAddress: "hwmac"
        }
    }

    /// (fixed, minimum, multiple) for the length check (`acceptsLength`), or nil when nothing is checked.
    var lengthRule: (fixed: Int, minimum: Int, multiple: Int)? {
        switch self {
        case .ipv4, .u32: (4, 0, 1)
        case .ipv4Plus, .u32Plus: (0, 4, 4)
        case .ipv4Star: (0, 0, 4)
        case .byte, .bool: (1, 0, 1)
        case .bytePlus: (0, 1, 1)
        case .string, .none: (0, 0, 1)
        case .u16: (2, 0, 1)
        case .u16Plus: (0, 2, 2)
        case .identifier: (0, 2, 1)
        case .rfc, .reserved, .hardwareAddress: nil
        }
    }

    /// The length check. Fixed-size types accept any length, exactly as the original (lenient on purpose:
    /// a strict check could reject scripts that work today).
    func acceptsLength(_ length: Int) -> Bool {
        guard let (fixed, minimum, multiple) = lengthRule else { return true }
        if length == fixed { return !(fixed == 0 && minimum > 0) }
        return length >= minimum && length % multiple == 0
    }
}

/// One row of the option table.
public struct OptionInfo: Sendable, Hashable {
    public let code: UInt8
    /// Nil for the reserved codes 224-254.
    public let name: String?
    public let type: OptionType
    /// Always selected when the request carried option 55.
    public var isMandatory: Bool { DHCPPacket.mandatoryCodes.contains(code) }
    /// Deleted by every response transform.
    public var isStrippedByTransform: Bool { DHCPPacket.transformStrippedCodes.contains(code) }
}

/// The option table, with the original's names: code <-> name and value type.
public enum DHCPOptions {
    /// Rows indexed by code; nil for unassigned codes (and for 0 and 255).
    public static let table: [OptionInfo?] = {
        var rows = [OptionInfo?](repeating: nil, count: 256)
        for (code, name, type) in definitions { rows[Int(code)] = OptionInfo(code: code, name: name, type: type) }
        for code in 224...254 { rows[code] = OptionInfo(code: UInt8(code), name: nil, type: .reserved) }
        return rows
    }()

    /// Name -> code.
    public static let codesByName: [String: UInt8] = {
        var names: [String: UInt8] = [:]
        for (code, name, _) in definitions { names[name] = code }
        return names
    }()

    /// Codes kept when decoding: every named code plus the reserved 224-254.
    public static let keptOnDecode: CodeSet = {
        var codes = CodeSet()
        for row in table.compactMap({ $0 }) { codes.insert(row.code) }
        return codes
    }()

    public static func info(_ code: UInt8) -> OptionInfo? { table[Int(code)] }
    public static func code(named name: String) -> UInt8? { codesByName[name] }
    public static func name(of code: UInt8) -> String? { table[Int(code)]?.name }

    static let definitions: [(UInt8, String, OptionType)] = [
        (1, "subnet_mask", .ipv4), (2, "time_offset", .u32), (3, "router", .ipv4Plus),
        (4, "time_server", .ipv4Plus), (5, "name_server", .ipv4Plus), (6, "domain_name_servers", .ipv4Plus),
        (7, "log_server", .ipv4Plus), (8, "cookie_server", .ipv4Plus), (9, "lpr_server", .ipv4Plus),
        (10, "impress_server", .ipv4Plus), (11, "resource_location_server", .ipv4Plus), (12, "hostname", .string),
        (13, "bootfile", .u16), (14, "merit_dump_file", .string), (15, "domain_name", .string),
        (16, "swap_server", .ipv4), (17, "root_path", .string), (18, "extensions_path", .string),
        (19, "ip_forwarding", .bool), (20, "nonlocal_source_routing", .bool), (21, "policy_filter", .ipv4Plus),
        (22, "maximum_datagram_reassembly_size", .u16), (23, "default_ip_time-to-live", .byte),
        (24, "path_mtu_aging_timeout", .u32), (25, "path_mtu_table", .u16Plus), (26, "interface_mtu", .u16),
        (27, "all_subnets_are_local", .bool), (28, "broadcast_address", .ipv4), (29, "perform_mask_discovery", .bool),
        (30, "mask_supplier", .bool), (31, "perform_router_discovery", .bool),
        (32, "router_solicitation_address", .ipv4), (33, "static_routes", .ipv4Plus),
        (34, "trailer_encapsulation", .bool), (35, "arp_cache_timeout", .u32), (36, "ethernet_encapsulation", .bool),
        (37, "tcp_default_ttl", .byte), (38, "tcp_keepalive_interval", .u32), (39, "tcp_keepalive_garbage", .bool),
        (40, "nis_domain", .string), (41, "nis_servers", .ipv4Plus), (42, "ntp_servers", .ipv4Plus),
        (43, "vendor_specific_information", .bytePlus), (44, "nbns", .ipv4Plus), (45, "nbdd", .ipv4Plus),
        (46, "nb_node_type", .byte), (47, "nb_scope", .string), (48, "x_window_system_font_server", .ipv4Plus),
        (49, "x_window_system_display_manager", .ipv4Plus), (50, "requested_ip_address", .ipv4),
        (51, "ip_address_lease_time", .u32), (52, "overload", .byte), (53, "dhcp_message_type", .byte),
        (54, "server_identifier", .ipv4), (55, "parameter_request_list", .bytePlus), (56, "message", .string),
        (57, "maximum_dhcp_message_size", .u16), (58, "renewal_time_value", .u32),
        (59, "rebinding_time_value", .u32), (60, "vendor_class_identifier", .string),
        (61, "client_identifier", .identifier), (62, "netware_ip_domain_name", .string),
        (63, "netware_ip_sub_options", .bytePlus), (64, "nis+_domain", .string), (65, "nis+_servers", .ipv4Plus),
        (66, "tftp_server_name", .string), (67, "bootfile_name", .string), (68, "mobile_ip_home_agent", .ipv4Star),
        (69, "smtp_servers", .ipv4Plus), (70, "pop_servers", .ipv4Plus), (71, "nntp_servers", .ipv4Plus),
        (72, "default_www_server", .ipv4Plus), (73, "default_finger_server", .ipv4Plus),
        (74, "default_irc_server", .ipv4Plus), (75, "streettalk_server", .ipv4Plus),
        (76, "streettalk_directory_assistance_server", .ipv4Plus), (77, "user_class", .string),
        (78, "directory_agent", .rfc("RFC2610_78")), (79, "service_scope", .rfc("RFC2610_79")),
        (80, "rapid_commit", .none), (81, "client_fqdn", .string), (82, "relay_agent", .bytePlus),
        (83, "internet_storage_name_service", .rfc("RFC4174_83")), (85, "nds_server", .ipv4Plus),
        (86, "nds_tree_name", .bytePlus), (87, "nds_context", .bytePlus),
        (88, "bcmcs_domain_list", .rfc("RFC4280_88")), (89, "bcmcs_ipv4_list", .ipv4Plus),
        (90, "authentication", .rfc("RFC3118_90")), (91, "client_last_transaction_time", .u32),
        (92, "associated_ip", .ipv4Plus), (93, "client_system", .u16Plus), (94, "client_ndi", .bytePlus),
        (95, "ldap", .string), (97, "uuid_guid", .bytePlus), (98, "open_group_user_auth", .string),
        (99, "geoconf_civic", .bytePlus), (100, "pcode", .string), (101, "tcode", .string),
        (112, "netinfo_address", .string), (113, "netinfo_tag", .string), (114, "url", .string),
        (116, "auto_config", .bool), (117, "name_service_search", .u16Plus), (118, "subnet_selection", .ipv4),
        (119, "domain_search", .rfc("RFC3397_119")), (120, "sip_servers", .rfc("RFC3361_120")),
        (121, "classless_static_route", .rfc("RFC3442_121")), (122, "cablelabs_client_configuration", .string),
        (123, "geoconf", .bytePlus), (124, "vendor_class", .string), (125, "vendor_specific", .string),
        (128, "pxe_128", .string), (129, "pxe_129", .string), (130, "pxe_130", .string), (131, "pxe_131", .string),
        (132, "pxe_132", .string), (133, "pxe_133", .string), (134, "pxe_134", .string), (135, "pxe_135", .string),
        (136, "pana_agent", .ipv4Plus), (137, "v4_lost", .rfc("RFC5223_137")), (138, "capwap_ac_v4", .ipv4Plus),
        (139, "ipv4_mos", .rfc("RFC5678_139")), (140, "fqdn_mos", .rfc("RFC5678_140")), (175, "ipxe_test", .string),
        (208, "pxelinux_magic", .u32), (209, "configuration_file", .string), (210, "path_prefix", .string),
        (211, "reboot_time", .u32),
    ]
}
