#include "copy_test_util.h"

namespace strata::build {
namespace {
using testutil::CopyFixture;
class CopyTest : public CopyFixture {};
TEST_F(CopyTest, Smoke) {
  Ctx("a.txt", "hello");
  auto r = Run({"a.txt"}, "/x");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  for (auto& l : Entries(r->blob)) std::cerr << l << "\n";
  std::cerr << Applied(r->blob);
}
}  // namespace
}  // namespace strata::build
