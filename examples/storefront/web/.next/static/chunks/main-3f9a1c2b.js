console.log("storefront")
