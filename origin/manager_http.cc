#include "origin/manager_http.h"

namespace pgxn::origin {

void Manager::AddRoutes(gateway::Router* router) { AddUploadRoutes(router, &context_); }

}  // namespace pgxn::origin
