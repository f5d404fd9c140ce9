// The OASIS catalog resolver: the entry kinds schema imports need, relative targets,
// and that an edited catalog is seen on the next load (libxml2's own cache would not).
#include "gateway/schema/oasis_catalog.h"

#include <gtest/gtest.h>

#include <regex>

#include "test_support.h"

using namespace xoev;
using namespace schema_test;

TEST(OasisCatalog, ResolvesEntryKindsRelativeToTheCatalog) {
  TempDir tmp;
  write_file(tmp.path / "catalog.xml",
             "<?xml version=\"1.0\"?>\n"
             "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n"
             "  <uri name=\"http://example.org/a.xsd\" uri=\"local/a.xsd\"/>\n"
             "  <system systemId=\"http://example.org/s.xsd\" uri=\"local/s.xsd\"/>\n"
             "  <rewriteURI uriStartString=\"http://example.org/lib/\" rewritePrefix=\"lib/\"/>\n"
             "  <rewriteURI uriStartString=\"http://example.org/lib/v2/\" rewritePrefix=\"lib2/\"/>\n"
             "  <uriSuffix uriSuffix=\"/xmldsig-core-schema.xsd\" uri=\"w3c/dsig.xsd\"/>\n"
             "  <group xml:base=\"grouped/\"><uri name=\"urn:g\" uri=\"g.xsd\"/></group>\n"
             "  <nextCatalog catalog=\"more/next.xml\"/>\n"
             "</catalog>\n");
  write_file(tmp.path / "more" / "next.xml",
             "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n"
             "  <uri name=\"http://example.org/n.xsd\" uri=\"n.xsd\"/>\n</catalog>\n");
  auto c = OasisCatalog::load(tmp.path / "catalog.xml");
  ASSERT_TRUE(c.ok()) << c.problem().one_line();
  const std::string base = fs::weakly_canonical(tmp.path).string();
  EXPECT_EQ(c->resolve("http://example.org/a.xsd"), base + "/local/a.xsd");
  EXPECT_EQ(c->resolve("http://example.org/s.xsd"), base + "/local/s.xsd");
  EXPECT_EQ(c->resolve("http://example.org/lib/x/y.xsd"), base + "/lib/x/y.xsd");
  EXPECT_EQ(c->resolve("http://example.org/lib/v2/y.xsd"), base + "/lib2/y.xsd");  // longest prefix
  EXPECT_EQ(c->resolve("https://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd"), base + "/w3c/dsig.xsd");
  EXPECT_EQ(c->resolve("urn:g"), base + "/grouped/g.xsd");
  EXPECT_EQ(c->resolve("http://example.org/n.xsd"), base + "/more/n.xsd");
  EXPECT_FALSE(c->resolve("http://example.org/unknown.xsd").has_value());
}

TEST(OasisCatalog, EditedCatalogIsSeenOnReload) {
  TempDir tmp;
  const auto write = [&](const char* target) {
    write_file(tmp.path / "catalog.xml", std::string("<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">"
                                                     "<uri name=\"urn:x\" uri=\"") + target + "\"/></catalog>");
  };
  write("one.xsd");
  auto first = OasisCatalog::load(tmp.path / "catalog.xml");
  write("two.xsd");
  auto second = OasisCatalog::load(tmp.path / "catalog.xml");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->resolve("urn:x")->find("one.xsd"), std::string::npos);
  EXPECT_NE(second->resolve("urn:x")->find("two.xsd"), std::string::npos);
}

TEST(OasisCatalog, ErrorsNameFileAndLine) {
  TempDir tmp;
  write_file(tmp.path / "catalog.xml", "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n"
                                       "  <uri name=\"urn:x\"/>\n</catalog>\n");
  auto c = OasisCatalog::load(tmp.path / "catalog.xml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.problem().location->line, 2);
  EXPECT_NE(c.problem().detail.find("'uri'"), std::string::npos);

  write_file(tmp.path / "catalog.xml", "<catalog>\n");
  EXPECT_FALSE(OasisCatalog::load(tmp.path / "catalog.xml").ok());
  write_file(tmp.path / "catalog.xml", "<catalog/>");
  EXPECT_FALSE(OasisCatalog::load(tmp.path / "catalog.xml").ok());  // wrong namespace
  EXPECT_FALSE(OasisCatalog::load(tmp.path / "missing.xml").ok());
}

TEST(OasisCatalog, ShippedCatalogMapsEveryRemoteImportOfTheShippedSchemas) {
  const fs::path schemas = fs::path(XOEV_SOURCE_DIR) / "schemas";
  auto c = OasisCatalog::load(schemas / "catalog.xml");
  ASSERT_TRUE(c.ok()) << c.problem().one_line();
  const std::regex remote("schemaLocation=\"(https?://[^\"]+)\"");
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(schemas)) {
    if (e.path().extension() != ".xsd") continue;
    const std::string text = read_file(e.path());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), remote); it != std::sregex_iterator(); ++it) {
      const auto target = c->resolve((*it)[1].str());
      ASSERT_TRUE(target.has_value()) << e.path() << " imports " << (*it)[1].str();
      EXPECT_TRUE(fs::is_regular_file(*target)) << *target;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}
