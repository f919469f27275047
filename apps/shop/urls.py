from django.urls import path

from apps.shop.api import (
    CategoriesApi,
    PurchaseApi,
    PurchaseDetailApi,
    PurchaseListApi,
    ReceiptApi,
)

routes = [
    path("categories", CategoriesApi.as_view(), name="shop-categories"),
    path("purchase", PurchaseApi.as_view(), name="shop-purchase"),
    path("purchases", PurchaseListApi.as_view(), name="shop-purchases"),
    path("purchases/<int:purchase_id>", PurchaseDetailApi.as_view(), name="shop-purchase-detail"),
    path("receipts", ReceiptApi.as_view(), name="shop-receipts"),
]

api_routes = {"shop/": routes}
