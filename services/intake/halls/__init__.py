"""Halls: the city's hall and every county's hall on the one platform (市县两级政务服务大厅)."""
