// XTA 2 (version 2.1.1) names the SOAP endpoint speaks: namespaces, the WS-Addressing
// actions of XTA.wsdl's msgBoxPortType, and the exception error codes.
#pragma once

namespace xoev::xta {

inline constexpr const char* kSoap12Namespace = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr const char* kSoap11Namespace = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char* kWsaNamespace = "http://www.w3.org/2005/08/addressing";
inline constexpr const char* kOsciNamespace = "http://www.osci.eu/ws/2008/05/transport";
inline constexpr const char* kOsciMetaNamespace = "http://www.osci.eu/ws/2014/10/transport";
inline constexpr const char* kXtaNamespace = "http://xoev.de/transport/xta/211";

// XTA.wsdl uses the same wsam:Action for an operation's input, output and faults.
inline constexpr const char* kActionStatusList =
    "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxStatusListRequest";
inline constexpr const char* kActionFetch = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxFetchRequest";
inline constexpr const char* kActionClose = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxCloseRequest";
// WS-Addressing 1.0 SOAP binding: the action of a fault that belongs to no operation.
inline constexpr const char* kActionFault = "http://www.w3.org/2005/08/addressing/soap/fault";

inline constexpr const char* kReasonNoMatch = "http://www.osci.eu/ws/2008/05/transport/MsgBox/reasons/NoMatch";

// Code.Fehlernummer (XTA-Webservice-Datentypen.xsd) fixes the list URI and version but
// the codes themselves are not in the XSDs; these values are ours and provisional.
inline constexpr const char* kErrorCodeListUri = "urn:de:xta:webservice:codeliste:fehlernummer";
inline constexpr const char* kErrorCodeListVersion = "1.0";
inline constexpr const char* kErrorTechnicalProblem = "9000";
inline constexpr const char* kErrorInvalidMessageId = "9010";

}  // namespace xoev::xta
