// Heredoc detection, as BuildKit's parser does it (ParseHeredoc,
// heredocsFromLine, ChompHeredocContent).
//
// A line of ADD, COPY or RUN (also under ONBUILD, never in JSON form) that
// contains "<<" is split into words with quotes and escapes kept; each word
// matching ^(\d*)<<(-?)\s*([^<]*)$ names a heredoc. The name is the last
// group with its quoting removed, and must be a single word; quoting any part
// of it turns expansion off.
#ifndef STRATA_DOCKERFILE_HEREDOC_H_
#define STRATA_DOCKERFILE_HEREDOC_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dockerfile/node.h"

namespace strata::dockerfile {

/// BuildKit's ParseHeredoc: the heredoc `word` opens (content empty), or
/// nullopt when `word` is no heredoc ("<<", "<<EOF sh"). Unbalanced quotes in
/// the name are an error ("<<'EOF").
base::Result<std::optional<Heredoc>> ParseHeredoc(std::string_view word);

/// BuildKit's heredocsFromLine: the heredocs that the words of `line` open,
/// in order (contents empty). A line that does not split into words opens
/// none.
base::Result<std::vector<Heredoc>> HeredocsFromLine(std::string_view line);

/// BuildKit's ChompHeredocContent: removes the tabs at the start of every
/// line of `content` (what `<<-` asks for).
std::string ChompHeredocContent(std::string_view content);

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_HEREDOC_H_
