//! Requests that match no route: 405 with `Allow` when the path exists with other methods, else 404.

use actix_web::dev::ResourceDef;
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

    fn methods_for(&self, path: &str) -> Vec<Method> {
        self.0.iter().filter(|(def, _)| def.is_match(path)).flat_map(|(_, methods)| methods.iter().cloned()).collect()
    }
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
    let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    Err(AppError::new(
        Kind::MethodNotAllowed,
        "method_not_allowed",
        Text::new(
            format!("{} không dùng được với đường dẫn này; hãy dùng {allow}.", req.method()),
            format!("{} is not allowed here; use {allow}.", req.method()),
        ),
    )
    .with_allow(allow))
}
