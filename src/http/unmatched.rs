//! Requests that match no route: 405 with `Allow` when the path exists with other methods, else 404.

use actix_web::dev::ResourceDef;
use actix_web::error::PathError;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::{AppError, Kind, Text};

/// Every served path with its methods, taken from the generated OpenAPI document (which lists them all).
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    pub fn from_openapi(api: &OpenApi) -> RouteTable {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let operations = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                let methods = operations.into_iter().filter(|(_, present)| *present).map(|(m, _)| m).collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        RouteTable(routes)
    }

    /// A route spelled out in full (`/api/v1/listings/parse`) hides the templates that would also match it
    /// (`/api/v1/listings/{id}`), as in the router.
    fn methods_for(&self, path: &str) -> Vec<Method> {
        let matching = || self.0.iter().filter(|(def, _)| def.is_match(path));
        let exact = matching().any(|(def, _)| def.pattern() == Some(path));
        matching()
            .filter(|(def, _)| !exact || def.pattern() == Some(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect()
    }
}

/// A path parameter of the wrong type (`GET /api/v1/listings/parse`): 405 when the path is a route of its
/// own with other methods, else 404 as for any resource that does not exist.
pub fn bad_path_parameter(_: PathError, req: &HttpRequest) -> actix_web::Error {
    let allowed =
        req.app_data::<web::Data<RouteTable>>().map(|routes| routes.methods_for(req.path())).unwrap_or_default();
    if allowed.is_empty() || allowed.contains(req.method()) {
        return AppError::not_found().into();
    }
    method_not_allowed(req, &allowed).into()
}

pub async fn unmatched(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, AppError> {
    let allowed = routes.methods_for(req.path());
    if allowed.is_empty() {
        return Err(AppError::new(
            Kind::NotFound,
            "route_not_found",
            Text::new(format!("Không có đường dẫn {}.", req.path()), format!("There is no route {}.", req.path())),
        ));
    }
    Err(method_not_allowed(&req, &allowed))
}

fn method_not_allowed(req: &HttpRequest, allowed: &[Method]) -> AppError {
    let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    AppError::new(
        Kind::MethodNotAllowed,
        "method_not_allowed",
        Text::new(
            format!("{} không dùng được với đường dẫn này; hãy dùng {allow}.", req.method()),
            format!("{} is not allowed here; use {allow}.", req.method()),
        ),
    )
    .with_allow(allow)
}
