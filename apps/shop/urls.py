from django.urls import path

from apps.shop.api import (
    CategoriesApi,
    PurchaseApi,
    PurchaseDetailApi,
    PurchaseListApi,
    ReceiptApi,
)

urlpatterns = [
    path("shop/categories", CategoriesApi.as_view(), name="shop-categories"),
    path("shop/purchase", PurchaseApi.as_view(), name="shop-purchase"),
    path("shop/purchases", PurchaseListApi.as_view(), name="shop-purchases"),
    path(
        "shop/purchases/<int:purchase_id>", PurchaseDetailApi.as_view(), name="shop-purchase-detail"
    ),
    path("shop/receipts", ReceiptApi.as_view(), name="shop-receipts"),
]
