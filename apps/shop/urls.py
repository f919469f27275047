from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "shop/categories",
        not_implemented_view("Shop categories", "get").as_view(),
        name="shop-categories",
    ),
    path(
        "shop/purchase",
        not_implemented_view("Purchase an offer", "post").as_view(),
        name="shop-purchase",
    ),
    path(
        "shop/purchases",
        not_implemented_view("List purchases", "get").as_view(),
        name="shop-purchases",
    ),
    path(
        "shop/receipts",
        not_implemented_view("Redeem a store receipt", "post").as_view(),
        name="shop-receipts",
    ),
]
