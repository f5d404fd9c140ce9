#include "gateway/core/xml_document.h"

#include <gtest/gtest.h>

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
