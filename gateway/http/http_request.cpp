#include "gateway/http/http_request.h"

namespace xoev::http {

std::string HttpRequest::header(std::string_view name) const { return header_value(headers, name); }

std::string path_of(std::string_view target) { return std::string(target.substr(0, target.find_first_of("?#"))); }

}  // namespace xoev::http
