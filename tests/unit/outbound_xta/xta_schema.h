// Validation against the XTA 2.1.1 schemas next to XTA.wsdl: the schema is the WSDL's
// own <types> section (which includes XTA-Webservice-Globale-Elemente.xsd and
// -Exceptions.xsd and imports the OSCI schemas, and through OSCI2_02.xsd the SOAP 1.2
// envelope and WS-Addressing), compiled once by libxml2.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <vector>

namespace xoev::xta::test {

std::string xta_schema_dir();

// Errors of a whole SOAP envelope (lax inside Header and Body, as soap-envelope.xsd says),
// plus strict validation of every header block and of the Body's child against its global
// element declaration. Empty = valid.
std::vector<std::string> validate_soap(const std::string& xml);

// Errors of one element (copied into a document of its own) validated strictly.
std::vector<std::string> validate_element(const xmlNode* element);

}  // namespace xoev::xta::test
