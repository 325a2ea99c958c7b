// Just enough XML for S3's answers: the text of <Tag>...</Tag> elements, entity-decoded. S3 responses
// are flat, machine-written documents without CDATA or attributes on the tags we read, so a full
// parser (and a dependency) would buy nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pb::s3 {

// The raw (still escaped) inner text of every <tag>...</tag>, in document order.
std::vector<std::string_view> xml_elements(std::string_view doc, std::string_view tag);
// The decoded text of the first <tag>, or nullopt.
std::optional<std::string> xml_first(std::string_view doc, std::string_view tag);
// &amp; &lt; &gt; &quot; &apos; and numeric &#N; / &#xH; references decoded.
std::string xml_unescape(std::string_view s);
std::string xml_escape(std::string_view s);

}  // namespace pb::s3
